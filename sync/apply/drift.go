package apply

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// Drift is the periodic correction of hand edits: it reads the live objects
// of the applied commit and re-applies only those that no longer hold every
// field syncgate sets (changed, or deleted); the others cause no write.
// Objects absent from prev were never applied and are left to Apply, which
// dry-runs first. Nothing is pruned.
func (a *Applier) Drift(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []Entry) (*Result, error) {
	start := time.Now()
	res, err := a.drift(ctx, namespace, objs, prev)
	a.metrics.observe("drift", start, err)
	return res, err
}

func (a *Applier) drift(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []Entry) (*Result, error) {
	via, err := a.clients.of(namespace)
	if err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	all, refused := a.prepare(namespace, via, objs, nil)
	if len(refused) > 0 {
		sortErrors(refused)
		return nil, &ValidationError{Objects: refused}
	}
	applied := ids(prev)
	var check []*desired
	for _, d := range all {
		if applied[d.ref.id()] {
			check = append(check, d)
		}
	}
	live, err := a.live(ctx, namespace, check)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	var drifted []*desired
	for _, d := range check {
		res.Inventory = append(res.Inventory, d.entry())
		if u := live[d.ref.id()]; u != nil && holds(u.Object, asStored(d.obj).Object) {
			res.Unchanged = append(res.Unchanged, d.ref)
			continue
		}
		drifted = append(drifted, d)
	}
	w := &written{}
	if err := a.write(ctx, namespace, drifted, w); err != nil {
		return nil, err
	}
	res.Applied, res.Adopted, res.Ready = w.refs()
	a.metrics.count("drifted", len(res.Applied))
	a.metrics.count("adopted", len(res.Adopted))
	if len(drifted) > 0 {
		a.log.Info("drift corrected", "namespace", namespace, "objects", len(drifted))
	}
	return res, nil
}

// live reads the objects: one LIST of namespace's objects per kind and
// namespace where several are wanted, else one GET each. Missing objects
// are absent from the map.
func (a *Applier) live(ctx context.Context, namespace string, ds []*desired) (map[string]*unstructured.Unstructured, error) {
	out := make(map[string]*unstructured.Unstructured, len(ds))
	var mu sync.Mutex
	put := func(d *desired, u *unstructured.Unstructured) {
		mu.Lock()
		out[d.ref.id()] = u
		mu.Unlock()
	}
	selector := labels.SelectorFromSet(labels.Set{ManagedByLabel: ManagedByValue, OwnerLabel: namespace}).String()
	err := readLive(ctx, a, ds, "drift check",
		func(ctx context.Context, d *desired) (map[string]*unstructured.Unstructured, error) {
			l, err := a.resource(d).List(ctx, metav1.ListOptions{LabelSelector: selector})
			if err != nil {
				return nil, err
			}
			byName := make(map[string]*unstructured.Unstructured, len(l.Items))
			for i := range l.Items {
				byName[l.Items[i].GetName()] = &l.Items[i]
			}
			return byName, nil
		},
		func(ctx context.Context, d *desired) (*unstructured.Unstructured, error) {
			return a.resource(d).Get(ctx, d.ref.Name, metav1.GetOptions{})
		},
		put)
	return out, err
}
