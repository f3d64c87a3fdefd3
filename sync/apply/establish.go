package apply

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// waitEstablished watches each CRD among ds until the API server serves its
// kind, then forgets cached discovery so the new kinds map.
func (a *Applier) waitEstablished(ctx context.Context, ds []*desired) error {
	waited := false
	for _, d := range ds {
		if !isCRD(d.ref) {
			continue
		}
		waited = true
		if err := a.waitOne(ctx, d); err != nil {
			return fmt.Errorf("apply %s: not established: %w", d.ref, err)
		}
	}
	if waited {
		a.clients.mapper.Reset()
	}
	return nil
}

func (a *Applier) waitOne(ctx context.Context, d *desired) error {
	ctx, cancel := context.WithTimeout(ctx, a.opts.EstablishTimeout)
	defer cancel()
	r := a.resource(d)
	only := func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", d.ref.Name).String()
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			only(&o)
			return r.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			only(&o)
			return r.Watch(ctx, o)
		},
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &unstructured.Unstructured{}, nil, func(ev watch.Event) (bool, error) {
		u, ok := ev.Object.(*unstructured.Unstructured)
		return ok && ev.Type != watch.Deleted && established(u), nil
	})
	return err
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
