package syncer

import (
	"context"
	"io/fs"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/priority"
	"github.com/syncgate/syncgate/sync/readiness"
)

// gatedSource tells whether the gate was held while it fetched.
type gatedSource struct {
	gate    *priority.Gate
	heldNow atomic.Bool
}

func (s *gatedSource) Sync(context.Context) (string, error) {
	s.heldNow.Store(s.gate.Busy())
	return "c1", nil
}
func (s *gatedSource) Tree(string) (fs.FS, error)               { return fstest.MapFS{}, nil }
func (s *gatedSource) Commits(string, string) ([]string, error) { return nil, nil }
func (s *gatedSource) IsAncestor(string, string) (bool, error)  { return true, nil } // one commit

// slowPods reports the objects not ready, notes whether the gate is held
// while it waits, and is ready once released.
type slowPods struct {
	gate    *priority.Gate
	waiting chan bool // whether the gate was held while pods were waited for
	release chan struct{}
}

func (p *slowPods) Wait(ctx context.Context, _ string, refs []readiness.Object, _ time.Time, progress func(readiness.Progress)) error {
	progress(readiness.Progress{Ready: 0, Total: len(refs)})
	p.waiting <- p.gate.Busy()
	select {
	case <-p.release:
		progress(readiness.Progress{Ready: len(refs), Total: len(refs)})
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A sync holds the gate while it fetches, renders, applies and records a
// commit, frees it while waiting for pods, and when it is done.
func TestSyncHoldsTheGateWhileAtWork(t *testing.T) {
	gate := priority.New()
	src := &gatedSource{gate: gate}
	pods := &slowPods{gate: gate, waiting: make(chan bool, 1), release: make(chan struct{})}
	var rendering, applying atomic.Bool
	store := &memStore{v: map[string]*version.Version{}}
	s, err := New(Options{
		Cluster: "c", Namespaces: []string{"web"}, Source: src, Gate: gate,
		Renderer: renderFunc(func() ([]*unstructured.Unstructured, error) {
			rendering.Store(gate.Busy())
			return []*unstructured.Unstructured{configMap("a")}, nil
		}),
		Applier: applyFunc(func([]apply.Entry) (*apply.Result, error) {
			applying.Store(gate.Busy())
			return &apply.Result{Inventory: []apply.Entry{entry("a", "h1")}, Applied: []apply.ObjectRef{entry("a", "h1").ObjectRef}}, nil
		}),
		Readiness: pods, Store: store, Events: record.NewFakeRecorder(100), RetryInterval: 10 * time.Millisecond,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() { defer close(done); _ = s.Run(ctx) }()
	_, _ = s.Fetch(ctx)
	require.True(t, src.heldNow.Load(), "held during the fetch")

	require.False(t, <-pods.waiting, "free while pods are waited for")
	require.True(t, rendering.Load(), "held during the render")
	require.True(t, applying.Load(), "held during the apply")
	close(pods.release)
	require.Eventually(t, func() bool { st, _ := stateOf(store.get("web"), "c1"); return st == status.Deployed }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return !gate.Busy() }, 5*time.Second, time.Millisecond, "free once the commit is recorded")
}

// A namespace whose status writes keep failing holds no Options.Gate while
// it pauses between them: a preview waiting at the gate gets through, and
// the gate is held again for each write, until the commit is recorded.
// Before, the gate stayed held through every pause, and previews waited
// for as long as the writes failed (a Version deleted while its namespace
// terminates, RBAC taken back).
func TestPreviewsGetThroughWhileARecordIsRetried(t *testing.T) {
	gate := priority.New()
	store := &refusing{memStore: &memStore{v: map[string]*version.Version{}}, refuse: map[string]bool{}, gate: gate}
	parts := &scripted{apply: func(sha string, _ []apply.Entry) (*apply.Result, error) {
		store.set("web", true) // refused from the record of what it wrote on
		return &apply.Result{Inventory: []apply.Entry{entry("cm-"+sha, "h-"+sha)}}, nil
	}}
	s, err := New(Options{
		Cluster: "c", Namespaces: []string{"web"}, Source: &movingHead{head: "c1"}, Gate: gate,
		Renderer: parts, Applier: parts, Readiness: readyAtOnce{}, Store: store,
		Events: record.NewFakeRecorder(100), RetryInterval: 10 * time.Millisecond,
	})
	require.NoError(t, err)
	runUntilEnd(t, s)
	refusedSince := func(n int) func() bool {
		return func() bool { refused, _ := store.counts(); return refused > n }
	}
	require.Eventually(t, refusedSince(0), 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, gate.Wait(ctx), "a preview waits for as long as the record's writes fail")
	refused, _ := store.counts()
	require.Eventually(t, refusedSince(refused), 5*time.Second, time.Millisecond, "the record is not written again")
	st, _ := stateOf(store.get("web"), "c1")
	require.Equal(t, status.Applying, st, "recorded while its writes were refused")

	store.set("web", false)
	require.Eventually(t, func() bool { st, _ := stateOf(store.get("web"), "c1"); return st == status.Deployed }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return !gate.Busy() }, 5*time.Second, time.Millisecond, "held once the commit is recorded")
	refused, ungated := store.counts()
	require.Zero(t, ungated, "%d of %d writes made without the gate held", ungated, refused)
}
