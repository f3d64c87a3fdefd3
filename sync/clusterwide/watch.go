package clusterwide

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
)

// Watch is a resource watched in a set of namespaces for as long as it
// runs.
type Watch struct {
	Resource   schema.GroupVersionResource
	Namespaces []string
	// Handler is told of the objects of Namespaces, and of no other.
	Handler cache.ResourceEventHandler
	// Transform, when set, pares an object of Namespaces before the
	// informer keeps it and Handler sees it; objects of other namespaces
	// are kept as their name and resourceVersion only.
	Transform cache.TransformFunc
	// Synced is called once the informers listed, again after a change
	// of where the resource is watched.
	Synced func()
	Logger *slog.Logger
}

// Run watches w with client until ctx ends: one informer for every
// namespace where grants say syncgate may list and watch the resource
// cluster-wide, else one per namespace. A question grants could not
// answer (the API server not answering yet) is asked again, paced by
// askBackoff, before the resource is watched per namespace; a refusal is
// followed at once. A cluster-wide watch refused later (its ClusterRole
// taken back) is replaced by per-namespace ones, and what Handler was
// told of that they do not find is told deleted.
func Run(ctx context.Context, client dynamic.Interface, grants *Grants, w Watch) error {
	if w.Logger == nil {
		w.Logger = slog.New(slog.DiscardHandler)
	}
	record := newRecord(w.Handler)
	may, err := ask(ctx, grants, w)
	switch {
	case ctx.Err() != nil:
		return nil
	case err != nil:
		w.Logger.Warn("cannot tell whether syncgate may watch in every namespace; watching each namespace", "resource", w.Resource.Resource, "err", err)
	case may:
		err := run(ctx, client, w, record, []string{metav1.NamespaceAll})
		if !errors.Is(err, errRefused) {
			return err
		}
		grants.Forget(w.Resource)
		w.Logger.Warn("watching in every namespace was refused; watching each namespace", "resource", w.Resource.Resource, "err", err)
	}
	return run(ctx, client, w, record, w.Namespaces)
}

// askBackoff paces the question of grants asked again after an error;
// past its steps the resource is watched per namespace.
var askBackoff = wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.1, Steps: 6, Cap: 30 * time.Second}

// ask asks grants about w's resource until answered, ctx ends or
// askBackoff's steps are spent.
func ask(ctx context.Context, grants *Grants, w Watch) (bool, error) {
	b := askBackoff
	for {
		may, err := grants.Ask(ctx, w.Resource)
		if err == nil || ctx.Err() != nil || b.Steps == 0 {
			return may, err
		}
		d := b.Step()
		w.Logger.Info("asking again whether syncgate may watch in every namespace", "resource", w.Resource.Resource, "in", d, "err", err)
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(d):
		}
	}
}

var errRefused = errors.New("watch refused")

// run runs one informer per entry of where ("" for all namespaces) until
// ctx ends or, for all namespaces, the watch is refused.
func run(ctx context.Context, client dynamic.Interface, w Watch, record *record, where []string) error {
	var running sync.WaitGroup
	defer running.Wait() // after cancel, deferred below
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	managed := make(map[string]bool, len(w.Namespaces))
	for _, ns := range w.Namespaces {
		managed[ns] = true
	}
	handler := cache.FilteringResourceEventHandler{
		FilterFunc: func(obj any) bool { return managed[namespaceOf(obj)] },
		Handler:    record,
	}
	record.renew()
	syncs := make([]cache.InformerSynced, 0, len(where))
	for _, ns := range where {
		inf := NewInformer(client, w.Resource, ns, "", cache.Indexers{})
		if err := inf.SetTransform(pare(managed, w.Transform)); err != nil {
			return err
		}
		if ns == metav1.NamespaceAll {
			if err := OnRefused(inf, func(err error) { cancel(fmt.Errorf("%w: %w", errRefused, err)) }); err != nil {
				return err
			}
		}
		reg, err := inf.AddEventHandler(handler)
		if err != nil {
			return err
		}
		running.Go(func() { inf.RunWithContext(ctx) })
		syncs = append(syncs, reg.HasSynced)
	}
	if cache.WaitForCacheSync(ctx.Done(), syncs...) {
		record.sweep()
		if w.Synced != nil {
			w.Synced()
		}
	}
	<-ctx.Done()
	if cause := context.Cause(ctx); errors.Is(cause, errRefused) {
		return cause
	}
	return nil
}

// pare keeps objects of other namespaces than managed as their name and
// resourceVersion, and runs transform on the others.
func pare(managed map[string]bool, transform cache.TransformFunc) cache.TransformFunc {
	return func(obj any) (any, error) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return obj, nil
		}
		if !managed[u.GetNamespace()] {
			bare := &unstructured.Unstructured{}
			bare.SetGroupVersionKind(u.GroupVersionKind())
			bare.SetNamespace(u.GetNamespace())
			bare.SetName(u.GetName())
			bare.SetResourceVersion(u.GetResourceVersion())
			return bare, nil
		}
		if transform == nil {
			return obj, nil
		}
		return transform(obj)
	}
}

func namespaceOf(obj any) string {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if m, ok := obj.(metav1.Object); ok {
		return m.GetNamespace()
	}
	return ""
}
