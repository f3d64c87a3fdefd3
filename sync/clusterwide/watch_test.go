package clusterwide_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/syncgate/syncgate/sync/clusterwide"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/requestlog"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{Nodes: 1})) }

var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// Where syncgate may list and watch a kind cluster-wide, the namespaces
// it manages are watched in one watch, and only theirs are told.
func TestOneWatchForEveryNamespace(t *testing.T) {
	c := cluster.Shared(t)
	a, b, other := cluster.Namespace(t, c), cluster.Namespace(t, c), cluster.Namespace(t, c)
	seen := &requestlog.Log{}
	dyn := client(t, c.RESTConfig(), seen)
	w := start(t, dyn, clusterwide.NewGrants(dyn, 0, nil), []string{a, b})

	create(t, c, other, "before")
	create(t, c, a, "one")
	create(t, c, b, "one")
	w.await(t, a+"/one", b+"/one")
	create(t, c, other, "after")
	create(t, c, a, "two")
	w.await(t, a+"/two")
	require.NotContains(t, w.names(), other+"/before")
	require.NotContains(t, w.names(), other+"/after", "a namespace not managed is not told")
	require.Len(t, seen.Watches("/api/v1/configmaps"), 1, "one watch for every namespace")
	require.Empty(t, seen.Watches("/api/v1/namespaces/"), "no watch per namespace")
}

// Without a grant of the kind in every namespace, each namespace is
// watched on its own, as the identity may; and a watch in every namespace
// refused although it was granted when asked (the ClusterRole taken back
// since) gives way to one per namespace.
func TestPerNamespaceWhereNotGranted(t *testing.T) {
	for _, tc := range []struct {
		name    string
		granted bool
	}{{"not granted", false}, {"granted when asked, then refused", true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := cluster.Shared(t)
			a, b := cluster.Namespace(t, c), cluster.Namespace(t, c)
			seen := &requestlog.Log{}
			dyn := client(t, reader(t, c, a, b), seen)
			asker := dyn
			if tc.granted {
				var err error
				asker, err = dynamic.NewForConfig(c.RESTConfig())
				require.NoError(t, err)
			}
			w := start(t, dyn, clusterwide.NewGrants(asker, 0, nil), []string{a, b})

			create(t, c, a, "one")
			create(t, c, b, "one")
			w.await(t, a+"/one", b+"/one")
			require.Equal(t, tc.granted, len(seen.Requests("/api/v1/configmaps")) > 0, "tried in every namespace first when granted")
			require.Len(t, seen.Watches("/api/v1/namespaces/"+a+"/configmaps"), 1)
			require.Len(t, seen.Watches("/api/v1/namespaces/"+b+"/configmaps"), 1)
		})
	}
}

// watched records the objects a Watch told of: seen and not deleted,
// and told deleted.
type watched struct {
	mu      sync.Mutex
	seen    map[string]bool
	deleted map[string]bool
	synced  bool
}

func (w *watched) told(o any, deleted bool) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	m := o.(metav1.Object)
	name := m.GetNamespace() + "/" + m.GetName()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen[name] = !deleted
	w.deleted[name] = deleted
}

func (w *watched) names() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for n, ok := range w.seen {
		if ok {
			out = append(out, n)
		}
	}
	return out
}

func (w *watched) await(t *testing.T, names ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, n := range names {
			if !w.seen[n] {
				return false
			}
		}
		return w.synced
	}, 30*time.Second, 20*time.Millisecond, "told of %v", names)
}

func (w *watched) awaitDeleted(t *testing.T, name string) {
	t.Helper()
	require.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.deleted[name]
	}, 30*time.Second, 20*time.Millisecond, "told %s deleted", name)
}

func start(t *testing.T, dyn dynamic.Interface, grants *clusterwide.Grants, namespaces []string) *watched {
	t.Helper()
	w := &watched{seen: map[string]bool{}, deleted: map[string]bool{}}
	runWatch(t, dyn, grants, namespaces, cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.told(o, false) },
		UpdateFunc: func(_, o any) { w.told(o, false) },
		DeleteFunc: func(o any) { w.told(o, true) },
	}, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.synced = true
	})
	return w
}

// runWatch runs a Watch of ConfigMaps in namespaces until the test ends.
func runWatch(t *testing.T, dyn dynamic.Interface, grants *clusterwide.Grants, namespaces []string, h cache.ResourceEventHandler, synced func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- clusterwide.Run(ctx, dyn, grants, clusterwide.Watch{Resource: configMaps, Namespaces: namespaces, Handler: h, Synced: synced})
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

func create(t *testing.T, c *cluster.Cluster, ns, name string) {
	t.Helper()
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	_, err = kube.CoreV1().ConfigMaps(ns).Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// reader is a client config of a user who may read ConfigMaps in
// namespaces only (ClusterRole view bound there).
func reader(t *testing.T, c *cluster.Cluster, namespaces ...string) *rest.Config {
	t.Helper()
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	user := "reader-" + namespaces[0]
	for _, ns := range namespaces {
		_, err := kube.RbacV1().RoleBindings(ns).Create(context.Background(), &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "reader"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		require.NoError(t, cluster.AwaitAllowed(context.Background(), kube, authorizationv1.SubjectAccessReviewSpec{User: user,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "watch", Resource: "configmaps", Namespace: ns}}))
	}
	cfg := c.RESTConfig()
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	return cfg
}

func client(t *testing.T, cfg *rest.Config, seen *requestlog.Log) dynamic.Interface {
	t.Helper()
	cfg.Wrap(seen.Wrap)
	dyn, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	return dyn
}
