package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/testing/cluster"
)

// runFloor is the floor of a first sync: the same objects created by a
// bare bulk create (64 in flight, no dry run, no apply, nothing recorded),
// then the controllers' own time to make every Deployment Ready.
func runFloor(ctx context.Context, o *options) (*table, error) {
	const ns = "bench-floor"
	fmt.Fprintln(os.Stderr, "floor: starting a local control plane...")
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return nil, err
	}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		return nil, err
	}
	resources := map[string]schema.GroupVersionResource{
		"ConfigMap":  {Version: "v1", Resource: "configmaps"},
		"Secret":     {Version: "v1", Resource: "secrets"},
		"Service":    {Version: "v1", Resource: "services"},
		"Deployment": {Group: "apps", Version: "v1", Resource: "deployments"},
	}
	var objs []*unstructured.Unstructured
	var deployments []readiness.Object
	for _, doc := range objects(ns, o.objects, 0) {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			return nil, err
		}
		objs = append(objs, u)
		if u.GetKind() == "Deployment" {
			deployments = append(deployments, readiness.Object{GroupKind: schema.GroupKind{Group: "apps", Kind: "Deployment"}, Namespace: ns, Name: u.GetName()})
		}
	}
	clients, err := apply.NewClients(c.RESTConfig(), "")
	if err != nil {
		return nil, err
	}
	checker, err := readiness.New(readiness.Options{Clients: clients, Timeout: 10 * time.Minute})
	if err != nil {
		return nil, err
	}

	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(64)
	for _, u := range objs {
		g.Go(func() error {
			_, err := dyn.Resource(resources[u.GetKind()]).Namespace(ns).Create(gctx, u, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	created := time.Since(start)
	if err := checker.Wait(ctx, ns, deployments, nil); err != nil {
		return nil, err
	}
	t := newTable()
	t.add(fmt.Sprintf("bare bulk create of %d objects", o.objects), "%s", secs(created))
	t.add(fmt.Sprintf("… then %d Deployments Ready (the floor)", len(deployments)), "%s", secs(time.Since(start)))
	return t, nil
}
