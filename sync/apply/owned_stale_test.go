package apply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
)

// unreachableGroup answers the first LIST of path with 404 and, from then
// on, discovery with group's versions stale and serving nothing: an
// aggregated API that stopped answering, its objects still there.
type unreachableGroup struct {
	rt    http.RoundTripper
	path  string
	group string
	mu    sync.Mutex
	down  bool
}

func (u *unreachableGroup) RoundTrip(r *http.Request) (*http.Response, error) {
	u.mu.Lock()
	down := u.down
	if r.URL.Path == u.path && !down {
		u.down = true
		u.mu.Unlock()
		return notFound(r), nil
	}
	u.mu.Unlock()
	resp, err := u.rt.RoundTrip(r)
	if err != nil || !down || r.URL.Path != "/apis" {
		return resp, err
	}
	defer resp.Body.Close()
	l := &apidiscoveryv2.APIGroupDiscoveryList{}
	if err := json.NewDecoder(resp.Body).Decode(l); err != nil {
		return nil, err
	}
	for i, g := range l.Items {
		if g.Name != u.group {
			continue
		}
		for j := range g.Versions {
			l.Items[i].Versions[j].Freshness = apidiscoveryv2.DiscoveryFreshnessStale
			l.Items[i].Versions[j].Resources = nil
		}
	}
	b, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	return resp, nil
}

// A kind whose LIST is answered 404 while discovery of its group fails
// (stale) may still have its objects: Owned fails rather than take the
// kind for deleted and leave them out of the inventory, never pruned.
func TestOwnedKindOfAGroupDiscoveryLost(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns, group := e.ns, e.ns+".example.com"
	deleteCRDAtCleanup(t, e, "gizmos."+group)
	_, err := e.applier.Apply(ctx, ns, objects(t, gizmoCRD(group), gizmo(group, ns, "g", "1"), configMap(ns, "a", "1")), nil)
	require.NoError(t, err)

	cfg := cluster.Shared(t).RESTConfig()
	down := &unreachableGroup{path: "/apis/" + group + "/v1/namespaces/" + ns + "/gizmos", group: group}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { down.rt = rt; return down })
	lister, err := apply.New(cfg, apply.Options{})
	require.NoError(t, err)
	owned, err := lister.Owned(ctx, ns)
	require.Error(t, err, "Owned found %v", owned)
	require.ErrorContains(t, err, group)
	require.True(t, down.down, "the LIST of gizmos was answered 404")
}

// refusedLists answers the LISTs of the first kind of paths listed with
// 404 for lasting after the first, and those of the others always: kinds
// whose discovery has not yet followed their CRDs, the first catching up.
type refusedLists struct {
	rt      http.RoundTripper
	paths   []string
	lasting time.Duration
	mu      sync.Mutex
	first   string
	began   map[string]time.Time
	last    map[string]time.Time
}

func (l *refusedLists) RoundTrip(r *http.Request) (*http.Response, error) {
	if !slices.Contains(l.paths, r.URL.Path) {
		return l.rt.RoundTrip(r)
	}
	l.mu.Lock()
	now := time.Now()
	if l.first == "" {
		l.first = r.URL.Path
	}
	if _, ok := l.began[r.URL.Path]; !ok {
		l.began[r.URL.Path] = now
	}
	refuse := r.URL.Path != l.first || now.Sub(l.began[r.URL.Path]) < l.lasting
	if refuse {
		l.last[r.URL.Path] = now
	}
	l.mu.Unlock()
	if !refuse {
		return l.rt.RoundTrip(r)
	}
	return notFound(r), nil
}

// servedInDiscovery waits until discovery serves every resource of
// groupVersion: a CRD is established a moment before discovery lists it,
// and an Owned call that began before would not list its kind at all.
func servedInDiscovery(t *testing.T, cfg *rest.Config, groupVersion string, resources ...string) {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		list, err := dc.ServerResourcesForGroupVersion(groupVersion)
		if err != nil {
			return false
		}
		for _, r := range resources {
			if !slices.ContainsFunc(list.APIResources, func(a metav1.APIResource) bool { return a.Name == r }) {
				return false
			}
		}
		return true
	}, 30*time.Second, 20*time.Millisecond, "discovery serves %v of %s", resources, groupVersion)
}

// notFound is the API server's answer to r when what it asks is not served.
func notFound(r *http.Request) *http.Response {
	body := `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`
	return &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}
}

// Owned waits for discovery to follow its kinds' CRDs for one bound in
// all, not for one bound per kind after another: a kind whose LISTs are
// answered 404 after another's waited most of it is waited for the rest.
func TestOwnedWaitsForDiscoveryOnceForAllKinds(t *testing.T) {
	const within = 8 * time.Second
	apply.ServedAgainWithin(t, within)
	e := setup(t)
	ctx := context.Background()
	ns, group := e.ns, e.ns+".example.com"
	deleteCRDAtCleanup(t, e, "gizmos."+group)
	deleteCRDAtCleanup(t, e, "widgets."+group)
	_, err := e.applier.Apply(ctx, ns, objects(t, gizmoCRD(group), crd(group, "Widget", "{type: object, x-kubernetes-preserve-unknown-fields: true}")), nil)
	require.NoError(t, err)

	cfg := cluster.Shared(t).RESTConfig()
	servedInDiscovery(t, cfg, group+"/v1", "gizmos", "widgets")
	prefix := "/apis/" + group + "/v1/namespaces/" + ns + "/"
	refused := &refusedLists{paths: []string{prefix + "gizmos", prefix + "widgets"}, lasting: within * 3 / 4,
		began: map[string]time.Time{}, last: map[string]time.Time{}}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { refused.rt = rt; return refused })
	lister, err := apply.New(cfg, apply.Options{})
	require.NoError(t, err)
	_, err = lister.Owned(ctx, ns)
	require.ErrorContains(t, err, "discovery still serves")
	require.Len(t, refused.began, 2, "both kinds were listed")
	other := refused.paths[0]
	if other == refused.first {
		other = refused.paths[1]
	}
	waited := refused.last[other].Sub(refused.began[other])
	require.Less(t, waited, within*3/4, "the second kind is waited for what the first left of the bound")
}
