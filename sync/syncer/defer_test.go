package syncer

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
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

func (l *linear) IsAncestor(a, b string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Index(l.order, a) <= slices.Index(l.order, b), nil
}

// writeLog is a store that logs each status write as "namespace head state".
type writeLog struct {
	*memStore
	mu  sync.Mutex
	log []string
}

// The write and its log line are one step under mu, so the log's order is
// the order in which writes became visible: logged after the write, another
// namespace's later write could be logged first.
func (w *writeLog) UpdateStatus(ctx context.Context, ns string, fn func(*version.VersionStatus) error) (*version.Version, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	v, err := w.memStore.UpdateStatus(ctx, ns, fn)
	if err == nil {
		state, _ := stateOf(v.Status, v.Status.Head)
		w.log = append(w.log, fmt.Sprintf("%s %s %s", ns, v.Status.Head, state))
	}
	return v, err
}

func (w *writeLog) since(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.log[n:])
}

// A namespace a commit leaves unchanged records it while the namespace the
// commit changes is still applying, and each commit once, in order: the
// commit before the head deployed in its own right (its inputs here were
// the applied commit's), not carried.
func TestUnchangedNamespacesDoNotWaitForAChangedOne(t *testing.T) {
	src := &linear{commits: &commits{head: "a", trees: map[string]gittree.Tree{}}, order: []string{"a", "b", "c"}}
	src.add("a", map[string]string{"web/one": "1", "other/x": "1"})
	src.add("b", map[string]string{"web/one": "2", "other/x": "1"})
	src.add("c", map[string]string{"web/one": "3", "other/x": "1"})
	store := &writeLog{memStore: &memStore{v: map[string]*version.Version{}}}
	parts := &stalled{counted: &counted{fail: map[string]bool{}}, ns: "web", applying: make(chan struct{}, 1), release: make(chan struct{})}
	s, err := New(Options{
		Cluster: "c", Namespaces: []string{"web", "other"}, Source: src,
		Renderer: parts, Applier: parts, Readiness: parts, Store: store,
		Events: record.NewFakeRecorder(1000), RetryInterval: 10 * time.Millisecond, RetryBudget: time.Minute,
	})
	require.NoError(t, err)
	ctx := runUntilEnd(t, s)
	push := func(sha string) { src.push(ctx, s, sha) }
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
	// Recorded while web's apply of b is held; before, other gave way
	// until web was done, or for 2 s.
	require.Eventually(t, deployed("other", "b"), time.Second, time.Millisecond, "other waited for web")
	push("c")
	parts.counted.mu.Lock()
	parts.holding = false
	parts.counted.mu.Unlock()
	close(parts.release)

	require.Eventually(t, deployed("web", "c"), 5*time.Second, time.Millisecond)
	require.Eventually(t, deployed("other", "c"), 5*time.Second, time.Millisecond)

	var others []string
	webApplied := -1
	for i, l := range store.since(mark) {
		switch {
		case l == "web b rolling-out" && webApplied < 0:
			webApplied = i
		case l[:5] == "other":
			others = append(others, l)
		}
		if l == "other b deployed" {
			require.Less(t, webApplied, 0, "other waited for web to apply b: %v", store.since(mark))
		}
	}
	require.Equal(t, []string{"other b deployed", "other c deployed"}, others, "each commit once, in order")
	st := store.get("other")
	b := st.Find("b")
	require.NotNil(t, b)
	require.Equal(t, status.Deployed, b.State, "b ran here as a did: deployed, not carried")
	require.Empty(t, b.CarriedBy)
}
