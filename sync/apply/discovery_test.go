package apply_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/requestlog"
)

// crd defines the namespaced kind in group, served and stored at v1,
// its openAPIV3Schema in YAML's flow style.
func crd(group, kind, schema string) string {
	singular := strings.ToLower(kind)
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: %[2]ss.%[1]s}
spec:
  group: %[1]s
  scope: Namespaced
  names: {plural: %[2]ss, singular: %[2]s, kind: %[3]s, listKind: %[3]sList}
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: %[4]s}}
`, group, singular, kind, schema)
}

func gizmoCRD(group string) string {
	return crd(group, "Gizmo", "{type: object, x-kubernetes-preserve-unknown-fields: true}")
}

func gizmo(group, ns, name, size string) string {
	return fmt.Sprintf("apiVersion: %s/v1\nkind: Gizmo\nmetadata: {name: %s, namespace: %s}\nspec: {size: %q}\n", group, name, ns, size)
}

func deleteCRDAtCleanup(t *testing.T, e *env, name string) {
	t.Cleanup(func() {
		_ = crds(e).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// loads counts the loads of discovery made through log: one GET of /api
// and one of /apis each.
func loads(t *testing.T, log *requestlog.Log) int {
	t.Helper()
	api, apis := len(log.Requests("/api")), len(log.Requests("/apis"))
	require.Equal(t, api, apis, "a load reads /api and /apis")
	return apis
}

// Applies read discovery once, whether their commits are unchanged,
// changed or drop objects; a commit that changes a CRD loads it once more
// (its kinds were just established), after which applies of its objects
// read it no more.
func TestAppliesReadDiscoveryOnce(t *testing.T) {
	e := setup(t)
	log := &requestlog.Log{}
	cfg := cluster.Shared(t).RESTConfig()
	cfg.Wrap(log.Wrap)
	a, err := apply.New(cfg, apply.Options{Prune: true})
	require.NoError(t, err)
	ctx := context.Background()
	ns, group := e.ns, e.ns+".example.com"
	deleteCRDAtCleanup(t, e, "gizmos."+group)

	commits := []struct {
		name string
		docs []string
	}{
		{"first", []string{configMap(ns, "a", "1"), configMap(ns, "b", "1"), service(ns, "web")}},
		{"unchanged", []string{configMap(ns, "a", "1"), configMap(ns, "b", "1"), service(ns, "web")}},
		{"changed", []string{configMap(ns, "a", "2"), configMap(ns, "b", "1"), service(ns, "web")}},
		{"dropping one", []string{configMap(ns, "a", "2"), service(ns, "web")}},
		{"unchanged again", []string{configMap(ns, "a", "2"), service(ns, "web")}},
	}
	var prev []apply.Entry
	for _, c := range commits {
		res, err := a.Apply(ctx, ns, objects(t, c.docs...), prev)
		require.NoError(t, err, c.name)
		prev = res.Inventory
		require.Equal(t, 1, loads(t, log), "after the %s commit", c.name)
	}

	res, err := a.Apply(ctx, ns, objects(t, gizmoCRD(group), gizmo(group, ns, "g", "1"), configMap(ns, "a", "2")), prev)
	require.NoError(t, err)
	prev = res.Inventory
	withCRD := loads(t, log)
	require.Greater(t, withCRD, 1, "the commit's CRD was established: discovery is loaded again")

	for i, docs := range [][]string{
		{gizmoCRD(group), gizmo(group, ns, "g", "1"), configMap(ns, "a", "2")},
		{gizmoCRD(group), gizmo(group, ns, "g", "2"), configMap(ns, "a", "3")},
		{gizmoCRD(group), configMap(ns, "a", "3")},
	} {
		res, err = a.Apply(ctx, ns, objects(t, docs...), prev)
		require.NoError(t, err)
		prev = res.Inventory
		require.Equal(t, withCRD, loads(t, log), "apply %d after the CRD's", i)
	}
	require.Equal(t, []apply.ObjectRef{{Group: group, Version: "v1", Kind: "Gizmo", Namespace: ns, Name: "g"}}, res.Pruned)
}

// Objects of a kind whose CRD was created after an Applier last read
// discovery (by another replica, or a leader before it) are found by
// Owned and pruned by Apply: neither trusts a load older than the call.
func TestKindAddedSinceTheLastLoad(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns, group := e.ns, e.ns+".example.com"
	deleteCRDAtCleanup(t, e, "gizmos."+group)

	// e.applier and lister read discovery now, before the kind exists.
	res, err := e.applier.Apply(ctx, ns, objects(t, configMap(ns, "a", "1")), nil)
	require.NoError(t, err)
	lister, err := apply.New(cluster.Shared(t).RESTConfig(), apply.Options{})
	require.NoError(t, err)
	owned, err := lister.Owned(ctx, ns)
	require.NoError(t, err)
	require.Len(t, owned, 1)

	other, err := apply.New(cluster.Shared(t).RESTConfig(), apply.Options{Prune: true})
	require.NoError(t, err)
	theirs, err := other.Apply(ctx, ns, objects(t, gizmoCRD(group), gizmo(group, ns, "g", "1"), configMap(ns, "a", "1")), res.Inventory)
	require.NoError(t, err)

	g := apply.ObjectRef{Group: group, Version: "v1", Kind: "Gizmo", Namespace: ns, Name: "g"}
	owned, err = lister.Owned(ctx, ns)
	require.NoError(t, err)
	require.Contains(t, owned, apply.Entry{ObjectRef: g}, "Owned lists the kind added since")

	res, err = e.applier.Apply(ctx, ns, objects(t, configMap(ns, "a", "1")), theirs.Inventory)
	require.NoError(t, err)
	require.Equal(t, []apply.ObjectRef{g}, res.Pruned)
	_, err = e.dyn.Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: "gizmos"}).Namespace(ns).Get(ctx, "g", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "%v", err)
}

// afterDiscovery runs do once, after the first load of discovery made
// through it has been answered.
type afterDiscovery struct {
	rt   http.RoundTripper
	once sync.Once
	do   func()
}

func (a *afterDiscovery) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := a.rt.RoundTrip(r)
	if err == nil && r.URL.Path == "/apis" {
		a.once.Do(a.do)
	}
	return resp, err
}

// A kind whose CRD is deleted after Owned read discovery has no objects
// left to list: Owned lists the other kinds, and does not fail.
func TestOwnedKindDeletedSinceTheLoad(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns, group := e.ns, e.ns+".example.com"
	deleteCRDAtCleanup(t, e, "gizmos."+group)
	_, err := e.applier.Apply(ctx, ns, objects(t, gizmoCRD(group), configMap(ns, "a", "1")), nil)
	require.NoError(t, err)

	owned := ownedChangedAfterLoad(t, e, schema.GroupVersionResource{Group: group, Version: "v1", Resource: "gizmos"}, nil, func() {
		require.NoError(t, crds(e).Delete(ctx, "gizmos."+group, metav1.DeleteOptions{}))
	})
	require.Equal(t, []apply.Entry{{ObjectRef: ref("", "ConfigMap", ns, "a")}}, owned)
}

// crds are the CustomResourceDefinitions, as e's test sees them.
func crds(e *env) dynamic.ResourceInterface {
	return e.dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
}

// ownedChangedAfterLoad is what Owned of e's namespace finds when change
// is made after Owned loaded discovery and before it lists: once gone, a
// resource that change stops serving, answers a LIST with 404. With lag,
// the next load of discovery is answered as the first was, as when
// discovery has not yet followed the change.
func ownedChangedAfterLoad(t *testing.T, e *env, gone schema.GroupVersionResource, lag *lagging, change func()) []apply.Entry {
	t.Helper()
	ctx := context.Background()
	cfg := cluster.Shared(t).RESTConfig()
	if lag != nil {
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { lag.rt = rt; return lag })
	}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return &afterDiscovery{rt: rt, do: func() {
			change()
			require.Eventually(t, func() bool {
				_, err := e.dyn.Resource(gone).Namespace(e.ns).List(ctx, metav1.ListOptions{})
				return apierrors.IsNotFound(err)
			}, 30*time.Second, 20*time.Millisecond, "%s is no longer served", gone)
		}}
	})
	lister, err := apply.New(cfg, apply.Options{})
	require.NoError(t, err)
	owned, err := lister.Owned(ctx, e.ns)
	require.NoError(t, err)
	return owned
}

// lagging answers the first GET of /apis after a LIST of refused was
// answered 404 with the body of the first GET of /apis, once: discovery
// that has not yet followed what made the LIST fail.
type lagging struct {
	rt       http.RoundTripper
	refused  string // a path
	mu       sync.Mutex
	first    []byte
	header   http.Header
	armed    bool
	replayed int
}

func (l *lagging) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.URL.Path == "/apis" && l.armed {
		l.armed = false
		l.replayed++
		return &http.Response{StatusCode: http.StatusOK, Header: l.header, Body: io.NopCloser(bytes.NewReader(l.first)), Request: r}, nil
	}
	resp, err := l.rt.RoundTrip(r)
	switch {
	case err != nil:
		return resp, err
	case r.URL.Path == l.refused && resp.StatusCode == http.StatusNotFound && l.replayed == 0:
		l.armed = true
	case r.URL.Path == "/apis" && l.first == nil:
		defer resp.Body.Close()
		if l.first, err = io.ReadAll(resp.Body); err != nil {
			return nil, err
		}
		l.header = resp.Header.Clone()
		resp.Body = io.NopCloser(bytes.NewReader(l.first))
	}
	return resp, nil
}

// A kind whose CRD stops serving the version Owned read in discovery and
// serves another (v1beta1 to v1) still has its objects: Owned lists them
// at the version served now, so they are pruned once a commit drops them;
// while discovery still names the version refused, it is asked again.
func TestOwnedKindMovedToAnotherVersionSinceTheLoad(t *testing.T) {
	for _, lag := range []bool{false, true} {
		t.Run(fmt.Sprintf("discovery lagging %v", lag), func(t *testing.T) {
			l := &lagging{}
			if !lag {
				l = nil
			}
			ownedMovedToAnotherVersion(t, l)
			if lag {
				require.Equal(t, 1, l.replayed, "the load after the 404 was answered as the first")
			}
		})
	}
}

func ownedMovedToAnotherVersion(t *testing.T, lag *lagging) {
	e := setup(t)
	ctx := context.Background()
	ns, group := e.ns, e.ns+".example.com"
	name := "gizmos." + group
	deleteCRDAtCleanup(t, e, name)
	beta := strings.Replace(gizmoCRD(group), "- {name: v1,", "- {name: v1beta1,", 1)
	_, err := e.applier.Apply(ctx, ns, objects(t, beta, strings.Replace(gizmo(group, ns, "g", "1"), "/v1\n", "/v1beta1\n", 1), configMap(ns, "a", "1")), nil)
	require.NoError(t, err)

	if lag != nil {
		lag.refused = "/apis/" + group + "/v1beta1/namespaces/" + ns + "/gizmos"
	}
	owned := ownedChangedAfterLoad(t, e, schema.GroupVersionResource{Group: group, Version: "v1beta1", Resource: "gizmos"}, lag, func() {
		require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
			crd, err := crds(e).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			preserve := map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
			if err := unstructured.SetNestedSlice(crd.Object, []any{
				map[string]any{"name": "v1beta1", "served": false, "storage": false, "schema": preserve},
				map[string]any{"name": "v1", "served": true, "storage": true, "schema": preserve},
			}, "spec", "versions"); err != nil {
				return err
			}
			_, err = crds(e).Update(ctx, crd, metav1.UpdateOptions{})
			return err
		}))
	})
	g := apply.ObjectRef{Group: group, Version: "v1", Kind: "Gizmo", Namespace: ns, Name: "g"}
	require.Equal(t, []apply.Entry{{ObjectRef: ref("", "ConfigMap", ns, "a")}, {ObjectRef: g}}, owned)

	res, err := e.applier.Apply(ctx, ns, objects(t, configMap(ns, "a", "1")), owned)
	require.NoError(t, err)
	require.Equal(t, []apply.ObjectRef{g}, res.Pruned)
}
