package kinds_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/sync/kinds"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/requestlog"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{Nodes: 1})) }

var crds = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// createCRD defines kind in group, served at versions (the last stored),
// and waits until it is established.
func createCRD(t *testing.T, dyn dynamic.Interface, group, kind, scope string, versions ...string) {
	t.Helper()
	plural := fmt.Sprintf("%ss", lower(kind))
	var vs []any
	for i, v := range versions {
		vs = append(vs, map[string]any{"name": v, "served": true, "storage": i == len(versions)-1,
			"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object"}}})
	}
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": plural + "." + group},
		"spec": map[string]any{"group": group, "scope": scope, "versions": vs,
			"names": map[string]any{"plural": plural, "singular": lower(kind), "kind": kind, "listKind": kind + "List"}},
	}}
	ctx := context.Background()
	_, err := dyn.Resource(crds).Create(ctx, crd, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = dyn.Resource(crds).Delete(context.Background(), crd.GetName(), metav1.DeleteOptions{}) })
	require.Eventually(t, func() bool {
		u, err := dyn.Resource(crds).Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err != nil {
			return false
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "CRD %s established", crd.GetName())
}

func lower(s string) string { return string(append([]byte{s[0] | 0x20}, s[1:]...)) }

func setup(t *testing.T) (*kinds.Mapper, dynamic.Interface, *requestlog.Log, string) {
	c := cluster.Shared(t)
	cfg := c.RESTConfig()
	log := &requestlog.Log{}
	cfg.Wrap(log.Wrap)
	m, err := kinds.New(cfg)
	require.NoError(t, err)
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	return m, dyn, log, cluster.Namespace(t, c) + ".example.com"
}

// mapping is what a kind maps to.
type mapping struct {
	gk         schema.GroupKind
	resource   schema.GroupVersionResource
	namespaced bool
}

// coreAndApps are kinds of every API server.
var coreAndApps = []mapping{
	{schema.GroupKind{Kind: "ConfigMap"}, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, true},
	{schema.GroupKind{Kind: "Namespace"}, schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, false},
	{schema.GroupKind{Group: "apps", Kind: "Deployment"}, schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, true},
}

func requireMappings(t *testing.T, m *kinds.Mapper, want []mapping) {
	for _, tc := range want {
		t.Run(tc.gk.String(), func(t *testing.T) {
			mapping, err := m.RESTMapping(tc.gk)
			require.NoError(t, err)
			require.Equal(t, tc.resource, mapping.Resource)
			require.Equal(t, tc.gk.WithVersion(tc.resource.Version), mapping.GroupVersionKind)
			require.Equal(t, tc.namespaced, mapping.Scope.Name() == meta.RESTScopeNameNamespace)
		})
	}
}

func TestBuiltInKinds(t *testing.T) {
	m, _, log, _ := setup(t)
	requireMappings(t, m, append(coreAndApps, mapping{schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"},
		schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}, false}))
	// Known kinds are answered from the first load: /api and /apis once.
	require.Len(t, log.Requests("/api"), 1)
	require.Len(t, log.Requests("/apis"), 1)
}

// A kind unknown to the server is a NoMatch error naming it, after one
// load again (its CRD might have been created since the first).
func TestUnknownKind(t *testing.T) {
	m, _, log, group := setup(t)
	_, err := m.RESTMapping(schema.GroupKind{Group: group, Kind: "Nothing"})
	require.True(t, meta.IsNoMatchError(err), "%v", err)
	require.EqualError(t, err, fmt.Sprintf(`no matches for kind "Nothing" in group %q`, group))
	require.Len(t, log.Requests("/apis"), 2)

	_, err = m.RESTMapping(schema.GroupKind{Kind: "ConfigMap"}, "v2")
	require.True(t, meta.IsNoMatchError(err), "a version not served: %v", err)
}

// A CRD created after the first lookup is found: a miss loads discovery
// again. Its preferred version is the one discovery lists first; its scope
// is the CRD's.
func TestCRDCreatedAfterFirstLookup(t *testing.T) {
	m, dyn, _, group := setup(t)
	widget := schema.GroupKind{Group: group, Kind: "Widget"}
	_, err := m.RESTMapping(widget)
	require.True(t, meta.IsNoMatchError(err), "%v", err)

	createCRD(t, dyn, group, "Widget", "Namespaced", "v1beta1", "v1")
	createCRD(t, dyn, group, "Gadget", "Cluster", "v1")
	// Discovery follows the CRD's Established condition closely, not at once.
	var mapping *meta.RESTMapping
	require.Eventually(t, func() bool {
		mapping, err = m.RESTMapping(widget)
		return err == nil
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}, mapping.Resource)
	require.Equal(t, meta.RESTScopeNameNamespace, mapping.Scope.Name())

	older, err := m.RESTMapping(widget, "v1beta1")
	require.NoError(t, err)
	require.Equal(t, "v1beta1", older.Resource.Version)

	var gadget *meta.RESTMapping
	require.Eventually(t, func() bool {
		gadget, err = m.RESTMapping(schema.GroupKind{Group: group, Kind: "Gadget"})
		return err == nil
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, meta.RESTScopeNameRoot, gadget.Scope.Name())

	preferred, err := m.Preferred()
	require.NoError(t, err)
	var ours []kinds.Resource
	for _, r := range preferred {
		if r.Group == group {
			ours = append(ours, r)
		}
	}
	require.ElementsMatch(t, []kinds.Resource{
		{GroupVersionResource: schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}, Kind: "Widget", Namespaced: true,
			Verbs: []string{"delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"}},
		{GroupVersionResource: schema.GroupVersionResource{Group: group, Version: "v1", Resource: "gadgets"}, Kind: "Gadget",
			Verbs: []string{"delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"}},
	}, ours)
}

// Reset drops what was loaded: a kind whose CRD was just established is
// found by the next lookup, loading once.
func TestReset(t *testing.T) {
	m, dyn, log, group := setup(t)
	_, err := m.RESTMapping(schema.GroupKind{Kind: "ConfigMap"})
	require.NoError(t, err)
	createCRD(t, dyn, group, "Widget", "Namespaced", "v1")
	require.Eventually(t, func() bool {
		m.Reset()
		before := len(log.Requests("/apis"))
		_, err := m.RESTMapping(schema.GroupKind{Group: group, Kind: "Widget"})
		return err == nil && len(log.Requests("/apis")) == before+1
	}, 30*time.Second, 20*time.Millisecond)
}

// An aggregated API whose service is down is left out of a load, which
// says so (IsStale), the rest being whole; its kinds are not found, and
// the error says why.
func TestAggregatedAPIDown(t *testing.T) {
	m, dyn, _, group := setup(t)
	apiservices := schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}
	svc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": "v1." + group},
		"spec": map[string]any{"group": group, "version": "v1", "groupPriorityMinimum": int64(100), "versionPriority": int64(100),
			"insecureSkipTLSVerify": true, "service": map[string]any{"namespace": "default", "name": "nowhere"}},
	}}
	_, err := dyn.Resource(apiservices).Create(context.Background(), svc, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = dyn.Resource(apiservices).Delete(context.Background(), svc.GetName(), metav1.DeleteOptions{})
	})

	var preferred []kinds.Resource
	require.Eventually(t, func() bool {
		preferred, err = m.Preferred()
		return kinds.IsStale(err)
	}, 30*time.Second, 50*time.Millisecond)
	require.ErrorContains(t, err, group+"/v1")
	require.Contains(t, preferred, kinds.Resource{GroupVersionResource: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Kind: "ConfigMap", Namespaced: true,
		Verbs: []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}})

	_, err = m.RESTMapping(schema.GroupKind{Kind: "ConfigMap"})
	require.NoError(t, err)
	_, err = m.RESTMapping(schema.GroupKind{Group: group, Kind: "Thing"})
	require.True(t, meta.IsNoMatchError(err), "%v", err)
	require.ErrorContains(t, err, "discovery of "+group+"/v1 failed")
}

// heldTransport holds the answer to the first /apis request, read before
// it holds, until released.
type heldTransport struct {
	rt       http.RoundTripper
	once     sync.Once
	held     chan struct{}
	released chan struct{}
}

func (h *heldTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	first := false
	if r.URL.Path == "/apis" {
		h.once.Do(func() { first = true })
	}
	resp, err := h.rt.RoundTrip(r)
	if !first || err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	close(h.held)
	<-h.released
	return resp, err
}

// A lookup after Reset does not take the answer of a load that started
// before it: a CRD established in between is seen.
func TestResetDropsALoadUnderWay(t *testing.T) {
	c := cluster.Shared(t)
	cfg := c.RESTConfig()
	held := &heldTransport{held: make(chan struct{}), released: make(chan struct{})}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { held.rt = rt; return held })
	m, err := kinds.New(cfg)
	require.NoError(t, err)
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	group := cluster.Namespace(t, c) + ".example.com"

	release := sync.OnceFunc(func() { close(held.released) })
	t.Cleanup(release)
	before := make(chan error, 1)
	go func() { _, err := m.Preferred(); before <- err }()
	<-held.held

	m.Reset()
	createCRD(t, dyn, group, "Widget", "Namespaced", "v1")
	// Discovery follows the CRD's Established condition closely, not at once.
	fresh, err := kinds.New(c.RESTConfig())
	require.NoError(t, err)
	widget := schema.GroupKind{Group: group, Kind: "Widget"}
	require.Eventually(t, func() bool {
		fresh.Reset()
		_, err := fresh.RESTMapping(widget)
		return err == nil
	}, 30*time.Second, 20*time.Millisecond)

	after := make(chan []kinds.Resource, 1)
	go func() { p, _ := m.Preferred(); after <- p }()
	select {
	case preferred := <-after:
		require.Contains(t, preferred, kinds.Resource{GroupVersionResource: schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"},
			Kind: "Widget", Namespaced: true, Verbs: []string{"delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"}})
	case <-time.After(10 * time.Second):
		t.Fatal("the lookup after Reset waits for the load that started before it")
	}
	release()
	require.NoError(t, <-before)
}
