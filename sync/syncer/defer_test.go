package syncer

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/gittree"
)

// linear is commits on one line, in the order added.
type linear struct {
	*commits
	order []string
}

func (l *linear) Commits(since, until string) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	from, to := slices.Index(l.order, since), slices.Index(l.order, until)
	if from < 0 || to < from {
		return nil, nil
	}
	return slices.Clone(l.order[from+1 : to+1]), nil
}

// writeLog is a store that logs each status write as "namespace head state".
type writeLog struct {
	*memStore
	mu  sync.Mutex
	log []string
}

func (w *writeLog) UpdateStatus(ctx context.Context, ns string, fn func(*version.VersionStatus) error) (*version.Version, error) {
	v, err := w.memStore.UpdateStatus(ctx, ns, fn)
	if err == nil {
		w.mu.Lock()
		state, _ := stateOf(v.Status, v.Status.Head)
		w.log = append(w.log, fmt.Sprintf("%s %s %s", ns, v.Status.Head, state))
		w.mu.Unlock()
	}
	return v, err
}

func (w *writeLog) since(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.log[n:])
}

// held is counted whose applies in namespace web wait, while hold is set,
// until namespace other recorded the head, the test releases them, or a
// bound passes.
type held struct {
	*counted
	store    *writeLog
	hold     chan struct{} // closed by the test to let applies go on
	applying chan string   // each held apply, by the head it began under
	holding  bool
}

func (h *held) Apply(ctx context.Context, ns string, objs []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error) {
	h.counted.mu.Lock()
	holding := h.holding && ns == "web"
	h.counted.mu.Unlock()
	if holding {
		h.applying <- ns
		// Namespace other recording the head now is the fault under test:
		// it is given the time to.
		bound := time.After(300 * time.Millisecond)
	wait:
		for h.store.get("other").Head == "a" {
			select {
			case <-bound:
				break wait
			case <-time.After(time.Millisecond):
			}
		}
		<-h.hold
	}
	return h.counted.Apply(ctx, ns, objs, prev)
}

// A namespace a commit leaves unchanged records it after the namespace the
// commit changes, and commits that come while it gives way are recorded in
// one write: the newest head, the commit before it deployed in its own
// right (its inputs here were the applied commit's), not carried.
func TestUnchangedNamespacesGiveWayAndCoalesce(t *testing.T) {
	src := &linear{commits: &commits{head: "a", trees: map[string]gittree.Tree{}}, order: []string{"a", "b", "c"}}
	src.add("a", map[string]string{"web/one": "1", "other/x": "1"})
	src.add("b", map[string]string{"web/one": "2", "other/x": "1"})
	src.add("c", map[string]string{"web/one": "3", "other/x": "1"})
	store := &writeLog{memStore: &memStore{v: map[string]*version.Version{}}}
	parts := &held{counted: &counted{fail: map[string]bool{}}, store: store, hold: make(chan struct{}), applying: make(chan string, 4)}
	s, err := New(Options{
		Cluster: "c", Namespaces: []string{"web", "other"}, Source: src,
		Renderer: parts, Applier: parts, Readiness: parts, Store: store,
		Events: record.NewFakeRecorder(1000), RetryInterval: 10 * time.Millisecond, RetryBudget: time.Minute,
	})
	require.NoError(t, err)
	ctx := runUntilEnd(t, s)
	push := func(sha string) {
		src.mu.Lock()
		src.head = sha
		src.mu.Unlock()
		_, _ = s.Fetch(ctx)
	}
	deployed := func(ns, sha string) func() bool {
		return func() bool { st, _ := stateOf(store.get(ns), sha); return st == status.Deployed }
	}
	require.Eventually(t, deployed("web", "a"), 5*time.Second, time.Millisecond)
	require.Eventually(t, deployed("other", "a"), 5*time.Second, time.Millisecond)
	mark := len(store.since(0))

	parts.counted.mu.Lock()
	parts.holding = true
	parts.counted.mu.Unlock()
	push("b")
	select {
	case <-parts.applying:
	case <-time.After(5 * time.Second):
		t.Fatal("b was never applied in web")
	}
	push("c")
	parts.counted.mu.Lock()
	parts.holding = false
	parts.counted.mu.Unlock()
	close(parts.hold)

	require.Eventually(t, deployed("web", "c"), 5*time.Second, time.Millisecond)
	require.Eventually(t, deployed("other", "c"), 5*time.Second, time.Millisecond)

	var others []string
	webApplied := -1
	for i, l := range store.since(mark) {
		switch {
		case l == "web c rolling-out" && webApplied < 0:
			webApplied = i
		case l[:5] == "other":
			others = append(others, l)
			require.Greater(t, i, webApplied, "other wrote before web applied c: %v", store.since(mark))
		}
	}
	require.Equal(t, []string{"other c deployed"}, others, "one write for both commits")
	st := store.get("other")
	b := st.Find("b")
	require.NotNil(t, b)
	require.Equal(t, status.Deployed, b.State, "b ran here as a did: deployed, not carried")
	require.Empty(t, b.CarriedBy)
}
