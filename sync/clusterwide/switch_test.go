package clusterwide_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/syncgate/syncgate/sync/clusterwide"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/requestlog"
)

// A watch per namespace taken because the access question went
// unanswered at start goes to every namespace once the question is
// answered yes, while objects are created, updated and deleted: the
// handler is told each object once, each change in order, and a deletion
// only of what was deleted; the watches per namespace end. Answered no,
// it stays per namespace.
func TestBackToEveryNamespaceOnceAnswered(t *testing.T) {
	defer func(b, re wait.Backoff) { *clusterwide.AskBackoff, *clusterwide.ReaskBackoff = b, re }(*clusterwide.AskBackoff, *clusterwide.ReaskBackoff)
	*clusterwide.AskBackoff = wait.Backoff{Duration: 20 * time.Millisecond, Factor: 2, Steps: 2}
	*clusterwide.ReaskBackoff = wait.Backoff{Duration: 20 * time.Millisecond, Factor: 2, Steps: math.MaxInt32, Cap: 100 * time.Millisecond}
	for _, granted := range []bool{true, false} {
		t.Run(fmt.Sprint("granted ", granted), func(t *testing.T) {
			c := cluster.Shared(t)
			kube, err := kubernetes.NewForConfig(c.RESTConfig())
			require.NoError(t, err)
			a, b := cluster.Namespace(t, c), cluster.Namespace(t, c)
			cfg := reader(t, c, a, b)
			if granted {
				cfg = c.RESTConfig()
			}
			q := &unanswered{n: -1}
			h, streams, seen := startChurned(t, c, cfg, q, 0, a, b)
			require.Empty(t, seen.Requests("/api/v1/configmaps"), "watched per namespace first")
			require.Equal(t, 1, streams.count("/api/v1/namespaces/"+a+"/configmaps"))
			asked := q.asked.Load()

			// Objects change while the question is answered and the
			// watches replaced.
			q.answering.Store(true)
			names := churn(t, kube, a, b, func() bool {
				return q.asked.Load() >= asked+2 && (!granted || streams.count("/api/v1/namespaces/") == 0)
			})
			h.await(t, names...)
			if !granted {
				require.Empty(t, seen.Requests("/api/v1/configmaps"), "refused: still per namespace")
				require.Equal(t, 1, streams.count("/api/v1/namespaces/"+b+"/configmaps"))
			} else {
				require.Equal(t, 0, streams.count("/api/v1/namespaces/"), "the watches per namespace ended")
				require.Equal(t, 1, streams.count("/api/v1/configmaps"), "one watch in every namespace")
			}
			requireHeld(t, kube, h, a, b)
		})
	}
}

// startChurned creates a/gone and b/changed, for churn, and starts a
// Watch of namespaces a and b as cfg, its access questions asked through
// q and kept ttl, told to a strict handler; it waits until the handler
// was told of both and returns it with the watch's streams and requests.
func startChurned(t *testing.T, c *cluster.Cluster, cfg *rest.Config, q *unanswered, ttl time.Duration, a, b string) (*strict, *openStreams, *requestlog.Log) {
	t.Helper()
	streams := &openStreams{open: map[string]int{}}
	cfg.Wrap(streams.wrap)
	seen := &requestlog.Log{}
	dyn := client(t, cfg, seen)
	askCfg := rest.CopyConfig(cfg)
	askCfg.Wrap(q.wrap)
	asker, err := dynamic.NewForConfig(askCfg)
	require.NoError(t, err)

	create(t, c, a, "gone")
	create(t, c, b, "changed")
	h := &strict{t: t, rv: map[string]uint64{}, adds: map[string]int{}}
	startStrict(t, dyn, clusterwide.NewGrants(asker, ttl, nil), []string{a, b}, h)
	h.await(t, a+"/gone", b+"/changed")
	return h, streams, seen
}

// churn creates ConfigMaps in a and b by turns, updates b/changed after
// each and deletes a/gone once, until done says so (after a few rounds
// at least, 200 at most); it returns the names of those created.
func churn(t *testing.T, kube kubernetes.Interface, a, b string, done func() bool) []string {
	t.Helper()
	ctx := context.Background()
	var names []string
	for i := 0; i < 200; i++ {
		ns := []string{a, b}[i%2]
		_, err := kube.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("new-", i)}}, metav1.CreateOptions{})
		require.NoError(t, err)
		names = append(names, ns+fmt.Sprint("/new-", i))
		cm, err := kube.CoreV1().ConfigMaps(b).Get(ctx, "changed", metav1.GetOptions{})
		require.NoError(t, err)
		cm.Data = map[string]string{"i": fmt.Sprint(i)}
		_, err = kube.CoreV1().ConfigMaps(b).Update(ctx, cm, metav1.UpdateOptions{})
		require.NoError(t, err)
		if i == 5 {
			require.NoError(t, kube.CoreV1().ConfigMaps(a).Delete(ctx, "gone", metav1.DeleteOptions{}))
		}
		if i > 10 && done() {
			break
		}
	}
	return names
}

// requireHeld checks that what h holds is what namespaces a and b hold,
// each object at its resourceVersion, and that it was told deleted only
// a/gone, which churn deleted.
func requireHeld(t *testing.T, kube kubernetes.Interface, h *strict, a, b string) {
	t.Helper()
	require.Eventually(t, func() bool {
		want := map[string]uint64{}
		for _, ns := range []string{a, b} {
			l, err := kube.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
			require.NoError(t, err)
			for _, cm := range l.Items {
				rv, _ := strconv.ParseUint(cm.ResourceVersion, 10, 64)
				want[ns+"/"+cm.Name] = rv
			}
		}
		return h.equal(want)
	}, 30*time.Second, 50*time.Millisecond, "the handler's objects are the cluster's")
	require.Equal(t, []string{a + "/gone"}, h.deletedNames(), "told deleted: only what was")
}

// openStreams counts the watch streams open, by path.
type openStreams struct {
	mu   sync.Mutex
	open map[string]int
}

func (o *openStreams) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTrip(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		if err != nil || !strings.Contains(r.URL.RawQuery, "watch=true") {
			return resp, err
		}
		o.add(r.URL.Path, 1)
		resp.Body = &closing{ReadCloser: resp.Body, closed: func() { o.add(r.URL.Path, -1) }}
		return resp, nil
	})
}

func (o *openStreams) add(path string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open[path] += n
}

// count is how many streams are open under prefix.
func (o *openStreams) count(prefix string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for path, open := range o.open {
		if strings.HasPrefix(path, prefix) {
			n += open
		}
	}
	return n
}

type closing struct {
	io.ReadCloser
	once   sync.Once
	closed func()
}

func (c *closing) Close() error {
	c.once.Do(c.closed)
	return c.ReadCloser.Close()
}

// strict is a handler that fails the test when it is told of an object
// twice, of a change out of order, or of the deletion of what it was not
// told of.
type strict struct {
	t       *testing.T
	mu      sync.Mutex
	rv      map[string]uint64
	adds    map[string]int
	deleted []string
	synced  bool
}

func name(o any) (string, uint64) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	m := o.(metav1.Object)
	rv, _ := strconv.ParseUint(m.GetResourceVersion(), 10, 64)
	return m.GetNamespace() + "/" + m.GetName(), rv
}

func (s *strict) add(o any) {
	n, rv := name(o)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.adds[n]++
	if _, ok := s.rv[n]; ok || s.adds[n] > 1 {
		s.t.Errorf("%s told added again at %d", n, rv)
	}
	s.rv[n] = rv
}

func (s *strict) update(o any) {
	n, rv := name(o)
	s.mu.Lock()
	defer s.mu.Unlock()
	if was, ok := s.rv[n]; !ok || rv <= was {
		s.t.Errorf("%s told updated to %d after %d (told: %v)", n, rv, was, ok)
	}
	s.rv[n] = rv
}

func (s *strict) remove(o any) {
	n, _ := name(o)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rv[n]; !ok {
		s.t.Errorf("%s told deleted, not being told of", n)
	}
	delete(s.rv, n)
	s.deleted = append(s.deleted, n)
}

func (s *strict) await(t *testing.T, names ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, n := range names {
			if _, ok := s.rv[n]; !ok {
				return false
			}
		}
		return s.synced
	}, 30*time.Second, 20*time.Millisecond, "told of %v", names)
}

func (s *strict) equal(want map[string]uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(want) != len(s.rv) {
		return false
	}
	for n, rv := range want {
		if s.rv[n] != rv {
			return false
		}
	}
	return true
}

func (s *strict) deletedNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.deleted...)
}

func startStrict(t *testing.T, dyn dynamic.Interface, grants *clusterwide.Grants, namespaces []string, s *strict) {
	t.Helper()
	runWatch(t, dyn, grants, namespaces,
		cache.ResourceEventHandlerFuncs{AddFunc: s.add, UpdateFunc: func(_, o any) { s.update(o) }, DeleteFunc: s.remove},
		func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.synced = true
		})
}
