package version_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/cluster"
)

// sentBytes counts the bodies of the writes a client sends.
type sentBytes struct {
	mu     sync.Mutex
	writes int
	bytes  int64
	next   http.RoundTripper
}

func (s *sentBytes) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet {
		s.mu.Lock()
		s.writes++
		s.bytes += max(r.ContentLength, 0)
		s.mu.Unlock()
	}
	return s.next.RoundTrip(r)
}

func (s *sentBytes) reset() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, b := s.writes, s.bytes
	s.writes, s.bytes = 0, 0
	return w, b
}

// countingStore is a Store whose writes are counted, on a fresh namespace
// holding a Version.
func countingStore(t *testing.T) (*version.Store, *sentBytes, string) {
	t.Helper()
	c := cluster.Shared(t)
	installCRD(t, c)
	cfg := c.RESTConfig()
	sent := &sentBytes{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { sent.next = rt; return sent })
	dyn, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	store := version.NewStore(dyn)
	ns := cluster.Namespace(t, c)
	_, err = store.Ensure(context.Background(), ns, version.VersionSpec{Cluster: "prod"})
	require.NoError(t, err)
	return store, sent, ns
}

// settledStatus is a namespace of 100 objects with a full history.
func settledStatus(st *version.VersionStatus) {
	for i := range 100 {
		st.Inventory = append(st.Inventory, version.InventoryEntry{Version: "v1", Kind: "ConfigMap", Name: fmt.Sprintf("cm-%d", i), Hash: fmt.Sprintf("%032x", i*7919)})
	}
	for i := range version.MaxHistory {
		st.Record(version.Commit{SHA: sha(i), State: status.Deployed, Ready: 100, Total: 100, Deployments: []string{"web"}})
	}
	st.Applied, st.Deployed = sha(version.MaxHistory-1), sha(version.MaxHistory-1)
}

// Recording a commit in a namespace whose inputs did not change sends the
// new history entry and the fields that moved, not the inventory and the
// history again; a write that changes nothing sends nothing.
func TestAStatusWriteSendsWhatItChanges(t *testing.T) {
	ctx := context.Background()
	store, sent, ns := countingStore(t)
	v, err := store.UpdateStatus(ctx, ns, func(st *version.VersionStatus) error { settledStatus(st); return nil })
	require.NoError(t, err)
	_, whole := sent.reset()

	next := sha(version.MaxHistory)
	v, err = store.UpdateStatusFrom(ctx, v, func(st *version.VersionStatus) error {
		st.Record(version.Commit{SHA: next, State: status.Deployed, Ready: 100, Total: 100, Deployments: []string{"web"}})
		st.Head, st.Applied, st.Deployed = next, next, next
		return nil
	})
	require.NoError(t, err)
	writes, bytes := sent.reset()
	require.Equal(t, 1, writes)
	require.Less(t, bytes, whole/8, "a commit recorded: %d bytes sent, the whole status is %d", bytes, whole)
	require.Equal(t, next, v.Status.History[0].SHA)
	require.Len(t, v.Status.History, version.MaxHistory)
	require.Len(t, v.Status.Inventory, 100)

	got, err := store.Get(ctx, ns)
	require.NoError(t, err)
	require.True(t, equality.Semantic.DeepEqual(v.Status, got.Status), "stored as written")
	sent.reset()

	same, err := store.UpdateStatusFrom(ctx, got, func(*version.VersionStatus) error { return nil })
	require.NoError(t, err)
	writes, _ = sent.reset()
	require.Zero(t, writes, "nothing changed, nothing sent")
	require.Equal(t, got.ResourceVersion, same.ResourceVersion)
}

// A patch from a Version another writer has moved past conflicts: fn runs
// again on what that writer stored, and neither write is lost.
func TestAStatusPatchFromAStaleVersionConflicts(t *testing.T) {
	ctx := context.Background()
	store, _, ns := countingStore(t)
	other, _, _ := countingStore(t)
	v, err := store.UpdateStatus(ctx, ns, func(st *version.VersionStatus) error { settledStatus(st); return nil })
	require.NoError(t, err)

	_, err = other.UpdateStatus(ctx, ns, func(st *version.VersionStatus) error {
		st.History = st.History[1:] // the newest entry gone: indexes move
		st.Head = "other"
		return nil
	})
	require.NoError(t, err)

	runs := 0
	got, err := store.UpdateStatusFrom(ctx, v, func(st *version.VersionStatus) error {
		runs++
		st.Find(sha(version.MaxHistory - 1 - runs)).State = status.Failed
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 2, runs, "the stale patch was refused, fn ran again on what is stored")
	require.Equal(t, "other", got.Status.Head)
	require.Len(t, got.Status.History, version.MaxHistory-1)
	require.Equal(t, status.Failed, got.Status.Find(sha(version.MaxHistory-3)).State)
	require.Equal(t, status.Deployed, got.Status.Find(sha(version.MaxHistory-2)).State)
}
