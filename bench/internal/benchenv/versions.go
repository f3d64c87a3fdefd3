package benchenv

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/status/version"
)

// WatchVersions calls note with every Version written in namespace ("" for
// all) and when it was seen, until ctx ends.
func WatchVersions(ctx context.Context, cfg *rest.Config, namespace string, note func(v *version.Version, seen time.Time)) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	w, err := dyn.Resource(version.Resource).Namespace(namespace).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			now := time.Now()
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			var v version.Version
			if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &v) == nil {
				note(&v, now)
			}
		}
	}()
	return nil
}
