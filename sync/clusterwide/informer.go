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
	ri := client.Resource(resource).Namespace(namespace)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return ri.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			return ri.Watch(ctx, o)
		},
	}
	return cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, client), &unstructured.Unstructured{},
		cache.SharedIndexInformerOptions{Indexers: indexers, ObjectDescription: resource.String()})
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
