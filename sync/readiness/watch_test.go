package readiness_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/testing/cluster"
)

// lists records the list and watch requests made through a client.
type lists struct {
	mu   sync.Mutex
	urls []string
}

func (l *lists) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTrip(func(r *http.Request) (*http.Response, error) {
		l.mu.Lock()
		l.urls = append(l.urls, r.URL.Path+"?"+r.URL.RawQuery)
		l.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A wait on a few objects of a kind lists and watches each by name, not
// every object of the kind; a wait on many shares one list of the kind.
func TestAFewObjectsAreWatchedByName(t *testing.T) {
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
	seen := &lists{}
	cfg := c.RESTConfig()
	cfg.Wrap(seen.wrap)
	clients, err := apply.NewClients(cfg, "")
	require.NoError(t, err)
	checker, err := readiness.New(readiness.Options{Clients: clients, Timeout: time.Minute})
	require.NoError(t, err)

	var last readiness.Progress
	require.NoError(t, checker.Wait(ctx, ns, refs[:2], func(p readiness.Progress) { last = p }))
	require.Equal(t, 2, last.Ready)
	seen.mu.Lock()
	byName := seen.urls
	seen.urls = nil
	seen.mu.Unlock()
	var configMaps []string
	for _, u := range byName {
		if strings.HasPrefix(u, "/api/v1/namespaces/"+ns+"/configmaps") {
			configMaps = append(configMaps, u)
			require.Contains(t, u, "fieldSelector=metadata.name%3Dcm-", "listed by name: %s", u)
		}
	}
	require.NotEmpty(t, configMaps)

	require.NoError(t, checker.Wait(ctx, ns, refs, func(p readiness.Progress) { last = p }))
	require.Equal(t, 20, last.Ready)
	seen.mu.Lock()
	defer seen.mu.Unlock()
	for _, u := range seen.urls {
		require.NotContains(t, u, "fieldSelector", "20 objects share one list of their kind: %s", u)
	}
}
