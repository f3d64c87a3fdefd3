package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Drift re-applies the objects whose live state no longer holds every field
// syncgate sets (edited by hand, deleted); the others cause no write.
func (a *Applier) Drift(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []Entry) (*Result, error) {
	all, err := a.prepare(objs)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	var drifted []*desired
	for _, d := range all {
		res.Inventory = append(res.Inventory, Entry{ObjectRef: d.ref, Hash: d.hash})
		if d.res == nil {
			continue
		}
		live, err := d.res.Get(ctx, d.ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			drifted = append(drifted, d)
		case err != nil:
			return nil, fmt.Errorf("drift check %s: %w", d.ref, err)
		case !contains(normalize(live.Object), normalize(d.obj.Object)):
			drifted = append(drifted, d)
		default:
			res.Unchanged = append(res.Unchanged, d.ref)
		}
	}
	if err := a.send(ctx, drifted, false); err != nil {
		return nil, err
	}
	for _, d := range drifted {
		res.Applied = append(res.Applied, d.ref)
	}
	sortRefs(res.Applied)
	return res, nil
}

// normalize round-trips through JSON so numbers compare alike.
func normalize(m map[string]any) any {
	b, err := json.Marshal(m)
	if err != nil {
		return m
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return m
	}
	return out
}

// contains reports whether every field of want is in have with the same value.
func contains(have, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			hv, ok := h[k]
			if !ok {
				if wv == nil {
					continue
				}
				return false
			}
			if !contains(hv, wv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !contains(h[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(have, want)
	}
}
