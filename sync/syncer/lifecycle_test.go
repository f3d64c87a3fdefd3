package syncer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/sync/render"
)

// movingHead is a config repo whose branch head the test moves; each
// commit's tree holds its sha, so a renderer can tell commits apart.
type movingHead struct {
	mu   sync.Mutex
	head string
	// between, when set, names the commits after from up to to (a burst
	// pushed at once); none otherwise.
	between func(from, to string) []string
	// pushedOver, when set, names the commits b does not hold though they
	// were pushed before it (a force-push); b holds every other commit.
	pushedOver func(b string) []string
}

func (m *movingHead) Sync(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.head, nil
}
func (m *movingHead) Tree(sha string) (fs.FS, error) {
	return fstest.MapFS{"sha": {Data: []byte(sha)}}, nil
}
func (m *movingHead) Commits(from, to string) ([]string, error) {
	if m.between == nil {
		return nil, nil
	}
	return m.between(from, to), nil
}

func (m *movingHead) IsAncestor(a, b string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pushedOver == nil || !slices.Contains(m.pushedOver(b), a), nil
}

func shaOf(tree fs.FS) string {
	b, _ := fs.ReadFile(tree, "sha")
	return string(b)
}

// scripted answers each call by the commit's sha.
type scripted struct {
	mu      sync.Mutex
	render  func(sha string) ([]*unstructured.Unstructured, error)
	apply   func(sha string, prev []apply.Entry) (*apply.Result, error)
	owned   []apply.Entry
	applied []string // shas in the order Apply was called
}

func (s *scripted) RenderContext(_ context.Context, tree fs.FS, _ string) ([]*unstructured.Unstructured, error) {
	sha := shaOf(tree)
	if s.render != nil {
		return s.render(sha)
	}
	return []*unstructured.Unstructured{configMap("cm-" + sha)}, nil
}

func (s *scripted) Apply(_ context.Context, _ string, objs []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error) {
	sha := strings.TrimPrefix(objs[0].GetName(), "cm-")
	s.mu.Lock()
	s.applied = append(s.applied, sha)
	s.mu.Unlock()
	if s.apply != nil {
		return s.apply(sha, prev)
	}
	return &apply.Result{Inventory: []apply.Entry{entry(objs[0].GetName(), "h-"+sha)}}, nil
}

func (s *scripted) Drift(context.Context, string, []*unstructured.Unstructured, []apply.Entry) (*apply.Result, error) {
	return &apply.Result{}, nil
}

func (s *scripted) Owned(context.Context, string) ([]apply.Entry, error) { return s.owned, nil }

func (s *scripted) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.applied...)
}

// gate is a readiness check the test opens per object.
type gate struct {
	mu   sync.Mutex
	open map[string]bool
	poke chan struct{}
}

func newGate() *gate { return &gate{open: map[string]bool{}, poke: make(chan struct{})} }

func (g *gate) Wait(ctx context.Context, _ string, refs []readiness.Object, _ time.Time, progress func(readiness.Progress)) error {
	for {
		g.mu.Lock()
		ready, poke := 0, g.poke
		for _, r := range refs {
			if g.open[r.Name] {
				ready++
			}
		}
		g.mu.Unlock()
		progress(readiness.Progress{Ready: ready, Total: len(refs)})
		if ready == len(refs) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poke:
		}
	}
}

func (g *gate) let(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open[name] = true
	close(g.poke)
	g.poke = make(chan struct{})
}

type harness struct {
	t     *testing.T
	store *memStore
	src   *movingHead
	s     *Syncer
}

func start(t *testing.T, store *memStore, head string, parts *scripted, ready Readiness, tweak ...func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, store: store, src: &movingHead{head: head}}
	opts := Options{
		Cluster: "c", Namespaces: []string{"web"}, Source: h.src,
		Renderer: parts, Applier: parts, Readiness: ready, Store: store,
		Events: record.NewFakeRecorder(1000), RetryInterval: 10 * time.Millisecond, RetryBudget: time.Minute,
	}
	for _, f := range tweak {
		f(&opts)
	}
	s, err := New(opts)
	require.NoError(t, err)
	h.s = s
	runUntilEnd(t, s)
	return h
}

// runUntilEnd fetches once and runs s until the test ends; ctx ends then.
func runUntilEnd(t *testing.T, s *Syncer) (ctx context.Context) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	_, _ = s.Fetch(ctx)
	go func() { defer close(done); _ = s.Run(ctx) }()
	return ctx
}

// push moves the branch head and fetches, as a poll or webhook would.
func (h *harness) push(sha string) {
	h.src.mu.Lock()
	h.src.head = sha
	h.src.mu.Unlock()
	_, _ = h.s.Fetch(context.Background())
}

func (h *harness) eventually(sha string, want status.State) {
	h.t.Helper()
	require.Eventually(h.t, func() bool { s, _ := stateOf(h.store.get("web"), sha); return s == want }, 5*time.Second, time.Millisecond,
		"%s never became %s: %+v", sha, want, h.store.get("web").History)
}

// A commit the API server refuses with HTTP 500 fails at once: it was
// judged, not left unanswered.
func TestRefusalWrappedIn500Fails(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	typed := apierrors.NewInternalError(errors.New("failed to create typed patch object (apps/v1, Kind=Deployment) web/web: .spec.replicas: expected numeric (int or float), got string"))
	parts := &scripted{apply: func(string, []apply.Entry) (*apply.Result, error) {
		return nil, fmt.Errorf("dry run %w", &apply.ObjectError{Object: entry("web", "").ObjectRef, Err: typed})
	}}
	h := start(t, store, "c1", parts, readyAtOnce{})
	h.eventually("c1", status.Failed)
	_, reason := stateOf(store.get("web"), "c1")
	require.Contains(t, reason, "expected numeric")
	require.Len(t, parts.calls(), 1, "tried once, not retried")
}

// Transient trouble is retried until the attempt is RetryBudget old; then
// the commit fails with the last error.
func TestTransientTroubleHasABudget(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	parts := &scripted{apply: func(string, []apply.Entry) (*apply.Result, error) {
		return nil, fmt.Errorf("dry run %w", &apply.ObjectError{Object: entry("web", "").ObjectRef, Err: apierrors.NewServiceUnavailable("etcd leader changed")})
	}}
	var clock struct {
		sync.Mutex
		now time.Time
	}
	clock.now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time {
		clock.Lock()
		defer clock.Unlock()
		clock.now = clock.now.Add(time.Second) // every look at the clock is a second later
		return clock.now
	}
	h := start(t, store, "c1", parts, readyAtOnce{}, func(o *Options) { o.Now = now; o.RetryBudget = 30 * time.Second })
	h.eventually("c1", status.Failed)
	_, reason := stateOf(store.get("web"), "c1")
	require.Contains(t, reason, "gave up after 30s")
	require.Contains(t, reason, "etcd leader changed")
	require.Greater(t, len(parts.calls()), 3, "retried meanwhile")
}

// A force-push back to an older commit is a rollback: it is applied again.
func TestRollbackIsApplied(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	parts := &scripted{}
	h := start(t, store, "a", parts, readyAtOnce{})
	h.eventually("a", status.Deployed)
	h.push("b")
	h.eventually("b", status.Deployed)
	h.push("a")
	require.Eventually(t, func() bool { return store.get("web").Applied == "a" }, 5*time.Second, time.Millisecond)
	h.eventually("a", status.Deployed)
	require.Equal(t, []string{"a", "b", "a"}, parts.calls())
	require.Equal(t, "a", store.get("web").Deployed)
	final := store.get("web")
	require.Equal(t, status.Deployed, final.Find("b").State, "b keeps its own verdict")
}

// A refused head leaves the applied commit running; its rollout still gets
// an outcome.
func TestRefusedHeadLeavesTheRolloutAwaited(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	parts := &scripted{render: func(sha string) ([]*unstructured.Unstructured, error) {
		if sha == "bad" {
			return nil, &render.Error{File: "web/app.yaml", Err: render.ErrInvalid}
		}
		return []*unstructured.Unstructured{configMap("cm-" + sha)}, nil
	}}
	g := newGate()
	h := start(t, store, "a", parts, g)
	h.eventually("a", status.RollingOut)
	h.push("bad")
	h.eventually("bad", status.Failed)
	g.let("cm-a")
	h.eventually("a", status.Deployed)
	require.Equal(t, []string{"a"}, parts.calls())
}

// failingStore refuses writes that record a final state, a given number
// of times.
type failingStore struct {
	*memStore
	mu    sync.Mutex
	fails int
}

func (f *failingStore) UpdateStatus(ctx context.Context, ns string, fn func(*version.VersionStatus) error) (*version.Version, error) {
	return f.memStore.UpdateStatus(ctx, ns, func(st *version.VersionStatus) error {
		if err := fn(st); err != nil {
			return err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if c := st.Find("c1"); c != nil && c.State.Terminal() && f.fails > 0 {
			f.fails--
			return apierrors.NewServiceUnavailable("the server is currently unable to handle the request")
		}
		return nil
	})
}

// A lost write of a commit's outcome is written again, not left rolling out.
func TestOutcomeWriteIsRetried(t *testing.T) {
	mem := &memStore{v: map[string]*version.Version{}}
	store := &failingStore{memStore: mem, fails: 3}
	parts := &scripted{}
	s, err := New(Options{
		Cluster: "c", Namespaces: []string{"web"}, Source: &movingHead{head: "c1"}, Renderer: parts, Applier: parts,
		Readiness: readyAtOnce{}, Store: store, RetryInterval: 10 * time.Millisecond,
	})
	require.NoError(t, err)
	runUntilEnd(t, s)
	require.Eventually(t, func() bool { st, _ := stateOf(mem.get("web"), "c1"); return st == status.Deployed }, 5*time.Second, time.Millisecond)
	require.Equal(t, []string{"c1"}, parts.calls(), "applied once; only the outcome was written again")
}

// A prune refused after the commit was written whole records the new
// commit as what runs and fails it with the reason; the next commit is not
// failed again for the same leftover.
func TestPruneFailureKeepsTheNewCommit(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	stuck := entry("stuck", "hs")
	store.v["web"] = &version.Version{Status: version.VersionStatus{Applied: "old", Inventory: inventoryOf([]apply.Entry{stuck})}}
	store.v["web"].Status.Upsert("old").State = status.Deployed
	parts := &scripted{apply: func(sha string, prev []apply.Entry) (*apply.Result, error) {
		inv := []apply.Entry{entry("cm-"+sha, "h-"+sha), stuck}
		return &apply.Result{Inventory: inv, Applied: []apply.ObjectRef{inv[0].ObjectRef}},
			&apply.PruneError{Objects: []apply.ObjectRef{stuck.ObjectRef}, Err: apierrors.NewForbidden(version.Resource.GroupResource(), "stuck", errors.New("may not delete"))}
	}}
	h := start(t, store, "c1", parts, readyAtOnce{})
	h.eventually("c1", status.Failed)
	st := store.get("web")
	require.Equal(t, "c1", st.Applied, "what was written is what runs")
	require.Contains(t, st.Find("c1").Reason, "could not prune")
	var orphan bool
	for _, e := range st.Inventory {
		if e.Name == "stuck" {
			orphan = e.Orphan
		}
	}
	require.True(t, orphan, "the leftover is kept, to be pruned later")

	h.push("c2")
	h.eventually("c2", status.Deployed)
	require.Equal(t, "c2", store.get("web").Applied)
}

// A Version deleted under the syncer is created again at once with the
// status last written: every verdict stands, and the next head applies.
func TestDeletedVersionIsRecreated(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	parts := &scripted{}
	h := start(t, store, "a", parts, readyAtOnce{})
	h.eventually("a", status.Deployed)
	store.mu.Lock()
	delete(store.v, "web")
	store.mu.Unlock()
	h.s.VersionDeleted("web")
	h.eventually("a", status.Deployed)
	require.Equal(t, "a", store.get("web").Applied, "the status came back whole")
	h.push("b")
	h.eventually("b", status.Deployed)
	require.Equal(t, []string{"a", "b"}, parts.calls(), "a was not applied again")
}

// A Version deleted while no leader ran: the inventory is found again by
// label, and the head is applied again.
func TestVersionDeletedWhileNoLeaderRan(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	parts := &scripted{owned: []apply.Entry{{ObjectRef: entry("cm-old", "").ObjectRef}}}
	var mu sync.Mutex
	var prevs [][]apply.Entry
	parts.apply = func(sha string, prev []apply.Entry) (*apply.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		prevs = append(prevs, prev)
		return &apply.Result{Inventory: []apply.Entry{entry("cm-"+sha, "h-"+sha)}}, nil
	}
	h := start(t, store, "a", parts, readyAtOnce{})
	h.eventually("a", status.Deployed)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, prevs, 1)
	require.Equal(t, "cm-old", prevs[0][0].Name, "what syncgate applied before, found by label, is pruned if the head lacks it")
}

// A reason of any length is kept bounded in the Version.
func TestLongReasonIsBounded(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	long := strings.Repeat("refused: field is immutable; ", 5000)
	parts := &scripted{apply: func(string, []apply.Entry) (*apply.Result, error) {
		return nil, &apply.ValidationError{Objects: []*apply.ObjectError{{Object: entry("web", "").ObjectRef, Err: apierrors.NewBadRequest(long)}}}
	}}
	h := start(t, store, "c1", parts, readyAtOnce{})
	h.eventually("c1", status.Failed)
	st := store.get("web")
	require.LessOrEqual(t, len(st.Find("c1").Reason), lifecycle.MaxReason)
	for _, c := range st.Conditions {
		require.LessOrEqual(t, len(c.Message), lifecycle.MaxReason, c.Type)
	}
}

// A new leader that finds the Version gone creates it again as its
// informer last saw it: the verdicts another leader wrote stand.
func TestNewLeaderRestoresARememberedVersion(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	seen := &version.Version{Status: version.VersionStatus{Applied: "a", Head: "a", Deployed: "a",
		Inventory: inventoryOf([]apply.Entry{entry("cm-a", "h-a")})}}
	seen.Status.Upsert("a").State = status.Deployed
	seen.Status.Upsert("bad").State = status.Failed
	parts := &scripted{}
	h := start(t, store, "a", parts, readyAtOnce{}, func(o *Options) {
		o.Remembered = func(string) *version.Version { return seen }
	})
	h.eventually("bad", status.Failed)
	h.eventually("a", status.Deployed)
	require.Empty(t, parts.calls(), "nothing applied again: the head was deployed")
}
