package readiness_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/clusterwide"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/requestlog"
)

// Rollouts share watches: however many Waits, one after another or at
// once, read a kind of a namespace, it is watched once, and the watch
// stops a while after the last Wait ended.
func TestRolloutsShareWatches(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	ctx := context.Background()
	var refs []readiness.Object
	for i := range 20 {
		name := fmt.Sprintf("cm-%d", i)
		_, err := kube.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		require.NoError(t, err)
		refs = append(refs, meta("", "ConfigMap", ns, name))
	}
	seen := &requestlog.Log{}
	cfg := c.RESTConfig()
	cfg.Wrap(seen.Wrap)
	clients, err := apply.NewClients(cfg, "")
	require.NoError(t, err)
	checker, err := readiness.New(readiness.Options{Clients: clients, Linger: 2 * time.Second})
	require.NoError(t, err)

	require.NoError(t, checker.Wait(ctx, ns, refs[:2], time.Now().Add(2*time.Minute), nil))
	require.NoError(t, checker.Wait(ctx, ns, refs, time.Now().Add(2*time.Minute), nil))
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { require.NoError(t, checker.Wait(ctx, ns, refs[3:9], time.Now().Add(2*time.Minute), nil)) })
	}
	wg.Wait()
	require.Len(t, seen.Watches("/api/v1/namespaces/"+ns+"/configmaps"), 1, "7 rollouts, one watch")
	open, started := checker.Watches()
	require.Equal(t, 1, open)
	require.Equal(t, 1, started)
	require.Eventually(t, func() bool { open, _ := checker.Watches(); return open == 0 }, 20*time.Second, 50*time.Millisecond,
		"the watch stops once no rollout needs it")
	require.NoError(t, checker.Wait(ctx, ns, refs[:1], time.Now().Add(2*time.Minute), nil))
	_, started = checker.Watches()
	require.Equal(t, 2, started)
}

// With syncgate's own client, a kind is watched once for every namespace,
// selecting the objects syncgate applied; pods and ReplicaSets too.
func TestOneWatchPerKindForAllNamespaces(t *testing.T) {
	c := cluster.Shared(t)
	ctx := context.Background()
	seen := &requestlog.Log{}
	cfg := c.RESTConfig()
	cfg.Wrap(seen.Wrap)
	own, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	clients, err := apply.NewClients(cfg, "")
	require.NoError(t, err)
	checker, err := readiness.New(readiness.Options{Clients: clients, Own: own, Grants: clusterwide.NewGrants(own, 0, nil)})
	require.NoError(t, err)
	applier, err := apply.New(c.RESTConfig(), apply.Options{})
	require.NoError(t, err)

	var refs []readiness.Object
	for range 4 {
		ns := cluster.Namespace(t, c)
		res, err := applier.Apply(ctx, ns, []*unstructured.Unstructured{deployment(t, ns, "registry.example.com/web:1", "")}, nil)
		require.NoError(t, err)
		refs = append(refs, meta("apps", "Deployment", ns, res.Inventory[0].Name))
	}
	var wg sync.WaitGroup
	for _, r := range refs {
		wg.Go(func() {
			require.NoError(t, checker.Wait(ctx, r.Namespace, []readiness.Object{r}, time.Now().Add(2*time.Minute), nil))
		})
	}
	wg.Wait()
	require.Len(t, seen.Requests("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"), 6,
		"may syncgate list and watch Deployments, pods, ReplicaSets: asked once for 4 rollouts")
	deployments := seen.Watches("/apis/apps/v1/deployments")
	require.Len(t, deployments, 1, "4 namespaces, one watch of Deployments")
	require.Contains(t, deployments[0], "labelSelector=syncgate.dev%2Fowner")
	require.Len(t, seen.Watches("/api/v1/pods"), 1)
	require.Len(t, seen.Watches("/apis/apps/v1/replicasets"), 1)
	require.Empty(t, seen.Watches("/apis/apps/v1/namespaces"), "no watch per namespace")
	open, started := checker.Watches()
	require.Equal(t, 3, open)
	require.Equal(t, 3, started)
}

// Watched as syncgate in every namespace, a namespace's objects are still
// read only when its own account may list them: a Wait for what it may not
// read fails at once, naming the account.
func TestWatchingEveryNamespaceKeepsTheNamespaceIdentity(t *testing.T) {
	c := cluster.Shared(t)
	ctx := context.Background()
	a, b := cluster.Namespace(t, c), cluster.Namespace(t, c)
	applier := applierAsAccount(t, c, a)
	own, err := dynamic.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	checker, err := readiness.New(readiness.Options{Clients: applier.Clients(), Own: own, Grants: clusterwide.NewGrants(own, 0, nil), Owners: []string{a, b}})
	require.NoError(t, err)
	admin, err := apply.New(c.RESTConfig(), apply.Options{})
	require.NoError(t, err)

	res, err := applier.Apply(ctx, a, []*unstructured.Unstructured{deployment(t, a, "registry.example.com/web:1", "")}, nil)
	require.NoError(t, err)
	require.NoError(t, checker.Wait(ctx, a, []readiness.Object{meta("apps", "Deployment", a, res.Inventory[0].Name)}, time.Now().Add(2*time.Minute), nil))

	// b's Deployment, applied for b: syncgate's watch holds it, a's
	// account may not read it.
	_, err = admin.Apply(ctx, b, []*unstructured.Unstructured{deployment(t, b, "registry.example.com/web:1", "")}, nil)
	require.NoError(t, err)
	start := time.Now()
	err = checker.Wait(ctx, a, []readiness.Object{meta("apps", "Deployment", b, "web")}, time.Now().Add(2*time.Minute), nil)
	require.Error(t, err)
	require.NotErrorIs(t, err, readiness.ErrTimeout)
	require.ErrorContains(t, err, "system:serviceaccount:"+a+":syncgate")
	require.Less(t, time.Since(start), 20*time.Second, "refused at once, not at the health timeout")
}

// What syncgate may watch in every namespace is asked once for its
// identity, whichever of its watches asks first: a Wait asks nothing the
// Grants it shares (with the Versions' watch) already answered.
func TestAccessAskedOncePerIdentity(t *testing.T) {
	c := cluster.Shared(t)
	ctx := context.Background()
	ns := cluster.Namespace(t, c)
	seen := &requestlog.Log{}
	cfg := c.RESTConfig()
	cfg.Wrap(seen.Wrap)
	own, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	grants := clusterwide.NewGrants(own, 0, nil)
	for _, gvr := range []schema.GroupVersionResource{
		{Group: "apps", Version: "v1", Resource: "deployments"},
		{Group: "apps", Version: "v1", Resource: "replicasets"},
		{Version: "v1", Resource: "pods"},
	} {
		require.True(t, grants.May(ctx, gvr))
	}
	const reviews = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
	asked := len(seen.Requests(reviews))
	clients, err := apply.NewClients(c.RESTConfig(), "")
	require.NoError(t, err)
	checker, err := readiness.New(readiness.Options{Clients: clients, Own: own, Grants: grants})
	require.NoError(t, err)
	applier, err := apply.New(c.RESTConfig(), apply.Options{})
	require.NoError(t, err)

	res, err := applier.Apply(ctx, ns, []*unstructured.Unstructured{deployment(t, ns, "registry.example.com/web:1", "")}, nil)
	require.NoError(t, err)
	require.NoError(t, checker.Wait(ctx, ns, []readiness.Object{meta("apps", "Deployment", ns, res.Inventory[0].Name)}, time.Now().Add(2*time.Minute), nil))
	require.Len(t, seen.Requests(reviews), asked, "nothing asked again")
	require.Len(t, seen.Watches("/apis/apps/v1/deployments"), 1, "watched in every namespace")
}
