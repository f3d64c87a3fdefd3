package syncer

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/gittree"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{Nodes: 1})) }

// concurrent is a Version store on the API server that counts, per
// commit head, the status writes of the namespaces it watches, and the
// most of them in flight at once.
type concurrent struct {
	*version.Store
	watched map[string]bool

	mu       sync.Mutex
	inFlight int
	peak     int
	writes   map[string]int // by namespace
}

func (c *concurrent) count(ns string) func() {
	if !c.watched[ns] {
		return func() {}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight++
	c.peak = max(c.peak, c.inFlight)
	c.writes[ns]++
	return func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}
}

func (c *concurrent) UpdateStatus(ctx context.Context, ns string, fn func(*version.VersionStatus) error) (*version.Version, error) {
	defer c.count(ns)()
	return c.Store.UpdateStatus(ctx, ns, fn)
}

func (c *concurrent) UpdateStatusFrom(ctx context.Context, last *version.Version, fn func(*version.VersionStatus) error) (*version.Version, error) {
	defer c.count(last.Namespace)()
	return c.Store.UpdateStatusFrom(ctx, last, fn)
}

// reset starts counting again and returns the peak and the writes since
// the last reset.
func (c *concurrent) reset() (int, map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	peak, writes := c.peak, c.writes
	c.peak, c.writes = 0, map[string]int{}
	return peak, writes
}

// stalled is counted whose applies in one namespace wait, while holding,
// until the test releases them.
type stalled struct {
	*counted
	ns       string
	holding  bool
	applying chan struct{}
	release  chan struct{}
}

func (s *stalled) Apply(ctx context.Context, ns string, objs []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error) {
	s.counted.mu.Lock()
	holding := s.holding && ns == s.ns
	s.counted.mu.Unlock()
	if holding {
		s.applying <- struct{}{}
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.counted.Apply(ctx, ns, objs, prev)
}

// Namespaces a commit leaves unchanged record it against the API server
// while the namespace it changes is still applying, one write at a time
// beside it; with no namespace applying, at most recordWidth at once.
// Each records each commit in one write. Before, they waited until the
// changed namespace was done (or 2 s), then wrote all at once.
func TestUnchangedNamespacesAreRecordedBesideASlowOne(t *testing.T) {
	c, versions := versionStore(t)
	ctx := context.Background()

	slow := cluster.Namespace(t, c)
	untouched := make([]string, 2*recordWidth)
	watched := map[string]bool{}
	for i := range untouched {
		untouched[i] = cluster.Namespace(t, c)
		watched[untouched[i]] = true
	}
	files := func(rev string) map[string]string {
		m := map[string]string{slow + "/one": rev}
		for _, ns := range untouched {
			m[ns+"/x"] = "1"
		}
		return m
	}
	src := &commits{head: "a", trees: map[string]gittree.Tree{}}
	src.add("a", files("1"))
	src.add("b", files("2"))
	src.add("c", files("2"))
	store := &concurrent{Store: versions, watched: watched, writes: map[string]int{}}
	parts := &stalled{counted: &counted{fail: map[string]bool{}}, ns: slow, applying: make(chan struct{}, 1), release: make(chan struct{})}
	s, err := New(Options{
		Cluster: "c", Namespaces: append([]string{slow}, untouched...), Source: src,
		Renderer: parts, Applier: parts, Readiness: parts, Store: store,
		Events: record.NewFakeRecorder(1000), RetryInterval: 50 * time.Millisecond, RetryBudget: time.Minute,
	})
	require.NoError(t, err)
	// A place held past laneHold lets the next record in beside a write
	// still in flight (TestLanePlaceIsHeldAtMostMaxHold): one status write
	// can take that long on a loaded machine. Held longer than the test
	// runs, what is in flight here is the lane's to say alone.
	s.records.maxHold = 10 * time.Minute
	// The API server is reached through the shared test control plane;
	// the store needs the CRD served before the workers ensure Versions.
	require.Eventually(t, func() bool {
		_, err := store.Get(ctx, slow)
		return err == nil
	}, time.Minute, 50*time.Millisecond)
	rctx := runUntilEnd(t, s)
	push := func(sha string) { src.push(rctx, s, sha) }
	deployed := func(sha string, namespaces ...string) func() bool {
		return func() bool {
			for _, ns := range namespaces {
				v, err := store.Get(ctx, ns)
				if err != nil || v == nil {
					return false
				}
				if st, _ := stateOf(v.Status, sha); st != status.Deployed {
					return false
				}
			}
			return true
		}
	}
	require.Eventually(t, deployed("a", append([]string{slow}, untouched...)...), 2*time.Minute, 20*time.Millisecond)
	store.reset()

	parts.counted.mu.Lock()
	parts.holding = true
	parts.counted.mu.Unlock()
	push("b")
	select {
	case <-parts.applying:
	case <-time.After(time.Minute):
		t.Fatal("b was never applied in the slow namespace")
	}
	require.Eventually(t, deployed("b", untouched...), 2*time.Minute, 20*time.Millisecond, "recorded while the slow namespace applies")
	peak, writes := store.reset()
	close(parts.release)
	require.Eventually(t, deployed("b", slow), time.Minute, 20*time.Millisecond)
	require.Equal(t, 1, peak, "one record at a time beside the namespace applying")
	for _, ns := range untouched {
		require.Equal(t, 1, writes[ns], "one write for b in %s", ns)
	}

	// c changes nothing anywhere: no namespace applies, so the lane is
	// as wide as it goes, and no wider.
	store.reset()
	push("c")
	require.Eventually(t, deployed("c", append([]string{slow}, untouched...)...), 2*time.Minute, 20*time.Millisecond)
	peak, writes = store.reset()
	require.LessOrEqual(t, peak, recordWidth, "records in flight at once")
	for _, ns := range untouched {
		require.Equal(t, 1, writes[ns], "one write for c in %s", ns)
	}
}
