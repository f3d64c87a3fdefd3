package clusterwide

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
)

// NewInformer is an informer of resource in namespace ("" for every
// namespace) through client, of the objects selector selects ("" for
// all), never resynced. It is the informer client-go's dynamicinformer
// builds (streaming its first list where client and server can), made
// here because that package imports every typed informer and, with them,
// a scheme holding every built-in API group.
func NewInformer(client dynamic.Interface, resource schema.GroupVersionResource, namespace, selector string, indexers cache.Indexers) cache.SharedIndexInformer {
	return newInformer(client, resource, namespace, selector, indexers, nil)
}

// newInformer is NewInformer telling listed, when not nil, of each list
// it reads whole (a list, every page of it, or a watch's initial events):
// its resourceVersion and the keys of the objects it holds. A list that
// fails part-way is not told.
func newInformer(client dynamic.Interface, resource schema.GroupVersionResource, namespace, selector string, indexers cache.Indexers, listed func(rv string, keys []string)) cache.SharedIndexInformer {
	ri := client.Resource(resource).Namespace(namespace)
	var read pages
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			l, err := ri.List(ctx, o)
			if err == nil && listed != nil {
				read.add(o.Continue == "", l, listed)
			}
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			w, err := ri.Watch(ctx, o)
			if err == nil && listed != nil && o.SendInitialEvents != nil && *o.SendInitialEvents {
				w = initialEvents(w, listed)
			}
			return w, err
		},
	}
	return cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, client), &unstructured.Unstructured{},
		cache.SharedIndexInformerOptions{Indexers: indexers, ObjectDescription: resource.String()})
}

// pages gathers the keys of a list read a page at a time (the reflector
// reads one list at a time, so no lock).
type pages struct{ keys []string }

// add reads l, the first page of a list when first, and tells listed of
// the list once l is its last page.
func (p *pages) add(first bool, l *unstructured.UnstructuredList, listed func(rv string, keys []string)) {
	if first {
		p.keys = nil
	}
	for i := range l.Items {
		if key, err := cache.MetaNamespaceKeyFunc(&l.Items[i]); err == nil {
			p.keys = append(p.keys, key)
		}
	}
	if l.GetContinue() != "" {
		return
	}
	keys := p.keys
	p.keys = nil
	listed(l.GetResourceVersion(), keys)
}

// OnRefused has refused called, in place of the informer's retrying for
// ever, when a list or watch of inf is forbidden or unauthorized: its
// identity lost (or never had) the right, which waiting does not bring
// back. Other errors are retried as client-go does.
func OnRefused(inf cache.SharedIndexInformer, refused func(error)) error {
	return inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, r *cache.Reflector, err error) {
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			refused(err)
			return
		}
		cache.DefaultWatchErrorHandler(ctx, r, err)
	})
}
