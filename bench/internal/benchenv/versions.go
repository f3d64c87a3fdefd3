package benchenv

import (
	"context"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/syncgate/syncgate/status/version"
)

// WatchVersions calls note with every Version written in namespace ("" for
// all) and when it was seen, until ctx ends: those there now, then each
// change. The watch is started again from where it was when the API
// server ends it (it does after its request timeout, sooner when loaded).
func WatchVersions(ctx context.Context, cfg *rest.Config, namespace string, note func(v *version.Version, seen time.Time)) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	res := dyn.Resource(version.Resource).Namespace(namespace)
	list, err := res.List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	now := time.Now()
	for i := range list.Items {
		noteObject(&list.Items[i], now, note)
	}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, list.GetResourceVersion(), &cache.ListWatch{
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return res.Watch(ctx, o) },
	})
	if err != nil {
		return err
	}
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					return
				}
				if ev.Type == watch.Error {
					fmt.Fprintf(os.Stderr, "Versions watch: %v\n", ev.Object)
					continue
				}
				if u, ok := ev.Object.(*unstructured.Unstructured); ok {
					noteObject(u, time.Now(), note)
				}
			}
		}
	}()
	return nil
}

func noteObject(u *unstructured.Unstructured, seen time.Time, note func(v *version.Version, seen time.Time)) {
	var v version.Version
	if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &v) == nil {
		note(&v, seen)
	}
}
