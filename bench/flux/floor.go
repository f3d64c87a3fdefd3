package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/readiness"
)

var resources = map[string]schema.GroupVersionResource{
	"ConfigMap":  {Version: "v1", Resource: "configmaps"},
	"Secret":     {Version: "v1", Resource: "secrets"},
	"Service":    {Version: "v1", Resource: "services"},
	"Deployment": {Group: "apps", Version: "v1", Resource: "deployments"},
}

// floor creates files' objects in ns with plain creates, 64 in flight at
// the control plane client's QPS 500 / burst 1000, in file order, and
// waits until the Deployments are Ready (kstatus, as syncgate judges them).
// It returns when the last create was answered and when all were Ready.
func (e *env) floor(ctx context.Context, ns string, files map[string]string) (created, ready time.Time, err error) {
	objs := make([]*unstructured.Unstructured, 0, len(files))
	for _, name := range slices.Sorted(maps.Keys(files)) {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(files[name]), &u.Object); err != nil {
			return created, ready, fmt.Errorf("%s: %w", name, err)
		}
		objs = append(objs, u)
	}
	var refs []readiness.Object
	for _, u := range objs {
		if u.GetKind() == "Deployment" {
			refs = append(refs, readiness.Object{GroupKind: schema.GroupKind{Group: "apps", Kind: "Deployment"}, Namespace: ns, Name: u.GetName()})
		}
	}
	clients, err := apply.NewClients(e.Cluster.RESTConfig(), "")
	if err != nil {
		return created, ready, err
	}
	checker, err := readiness.New(readiness.Options{Clients: clients})
	if err != nil {
		return created, ready, err
	}
	work := make(chan *unstructured.Unstructured)
	errs := make(chan error, len(objs))
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for u := range work {
				_, err := e.Dyn.Resource(resources[u.GetKind()]).Namespace(ns).Create(ctx, u, metav1.CreateOptions{})
				if err != nil {
					errs <- fmt.Errorf("create %s %s: %w", u.GetKind(), u.GetName(), err)
				}
			}
		})
	}
	for _, u := range objs {
		work <- u
	}
	close(work)
	wg.Wait()
	created = time.Now()
	close(errs)
	if err := <-errs; err != nil {
		return created, ready, err
	}
	if err := checker.Wait(ctx, ns, refs, time.Now().Add(e.o.timeout), nil); err != nil {
		return created, ready, fmt.Errorf("floor rollout: %w", err)
	}
	return created, time.Now(), nil
}
