package syncer

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/sync/render"
)

// clock is the time a test moves by hand: Options.Now, and what the
// rollout waits of onClock measure their deadlines against.
type clock struct {
	mu   sync.Mutex
	now  time.Time
	tick chan struct{} // closed when now moves, then replaced
}

var t0 = time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)

func newClock() *clock { return &clock{now: t0, tick: make(chan struct{})} }

func (c *clock) Now() time.Time {
	now, _ := c.read()
	return now
}

func (c *clock) read() (time.Time, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now, c.tick
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	close(c.tick)
	c.tick = make(chan struct{})
}

// onClock is a readiness check on the test's clock that honours the
// deadline each Wait is given, as readiness.Checker does: an object is
// ready once the test opens it, and a wait not ready at its deadline
// (or begun past it, after one look) times out. It keeps the deadlines
// it was given.
type onClock struct {
	clock *clock
	mu    sync.Mutex
	open  map[string]bool
	given []time.Time
}

func (o *onClock) Wait(ctx context.Context, _ string, refs []readiness.Object, deadline time.Time, progress func(readiness.Progress)) error {
	o.mu.Lock()
	o.given = append(o.given, deadline)
	o.mu.Unlock()
	for {
		now, tick := o.clock.read()
		var pending []string
		o.mu.Lock()
		for _, r := range refs {
			if !o.open[r.Name] {
				pending = append(pending, "ConfigMap "+r.Name+": not ready")
			}
		}
		o.mu.Unlock()
		progress(readiness.Progress{Ready: len(refs) - len(pending), Total: len(refs)})
		if len(pending) == 0 {
			return nil
		}
		if !now.Before(deadline) {
			return fmt.Errorf("%w, not ready: %s", readiness.ErrTimeout, strings.Join(pending, "; "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
		}
	}
}

func (o *onClock) let(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.open == nil {
		o.open = map[string]bool{}
	}
	o.open[name] = true
}

// deadlines are those given to the waits so far.
func (o *onClock) deadlines() []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]time.Time(nil), o.given...)
}

func (o *onClock) waits(n int) func() bool {
	return func() bool { return len(o.deadlines()) >= n }
}

// onlyAApplies refuses every commit but a at render, as broken YAML is.
func onlyAApplies() *scripted {
	return &scripted{render: func(sha string) ([]*unstructured.Unstructured, error) {
		if sha != "a" {
			return nil, &render.Error{File: "web/app.yaml", Err: render.ErrInvalid}
		}
		return []*unstructured.Unstructured{configMap("cm-a")}, nil
	}}
}

func requireTimedOut(t *testing.T, store *memStore, sha string) {
	t.Helper()
	state, reason := stateOf(store.get("web"), sha)
	require.Equal(t, status.Failed, state)
	require.Contains(t, reason, "health timeout, not ready: ConfigMap cm-"+sha)
}

// A rollout that never becomes ready fails once the health timeout has
// passed since its commit was applied, however often a refused head
// interrupts its wait. Before, every wait after a refused head started a
// fresh timeout, and a stuck commit pushed over now and then stayed
// rolling out for good.
func TestAStuckRolloutTimesOutFromItsApplyThroughRefusedHeads(t *testing.T) {
	clk, store := newClock(), &memStore{v: map[string]*version.Version{}}
	ready := &onClock{clock: clk}
	h := start(t, store, "a", onlyAApplies(), ready, func(o *Options) { o.Now, o.HealthTimeout = clk.Now, 5*time.Minute })
	h.eventually("a", status.RollingOut)
	require.Eventually(t, ready.waits(1), 5*time.Second, time.Millisecond)
	st := store.get("web")
	deadline := st.Find("a").AppliedAt.Add(5 * time.Minute)
	require.Equal(t, t0.Add(5*time.Minute), deadline)

	for i, sha := range []string{"b", "c", "d"} {
		clk.advance(90 * time.Second)
		h.push(sha)
		h.eventually(sha, status.Failed)
		require.Eventually(t, ready.waits(i+2), 5*time.Second, time.Millisecond, "a is awaited again after %s is refused", sha)
	}
	for i, d := range ready.deadlines() {
		require.Equal(t, deadline, d, "wait %d of a's rollout: its deadline moved", i)
	}
	h.eventually("a", status.RollingOut)

	clk.advance(30 * time.Second) // 5m since a was applied
	h.eventually("a", status.Failed)
	requireTimedOut(t, store, "a")
	st = store.get("web")
	require.Equal(t, t0.Add(5*time.Minute), st.Find("a").FinishedAt.Time)
}

// onClockSyncer is a Syncer of namespace web following head a, on clk,
// with a health timeout of 5m.
func onClockSyncer(t *testing.T, store *memStore, clk *clock, ready Readiness, parts *scripted) *Syncer {
	t.Helper()
	s, err := New(Options{
		Cluster: "c", Namespaces: []string{"web"}, Source: &movingHead{head: "a"},
		Renderer: parts, Applier: parts, Readiness: ready, Store: store, Now: clk.Now, HealthTimeout: 5 * time.Minute,
		Events: record.NewFakeRecorder(1000), RetryInterval: 10 * time.Millisecond, RetryBudget: time.Minute,
	})
	require.NoError(t, err)
	return s
}

// restarted runs a Syncer over store until the test ends, as a restarted
// or newly elected leader does.
func restarted(t *testing.T, store *memStore, clk *clock, ready Readiness, parts *scripted) {
	t.Helper()
	s := onClockSyncer(t, store, clk, ready, parts)
	runUntilEnd(t, s)
}

// firstRun applies a and waits for it for elapsed, then ends, as a
// leader does that stops or loses its lease.
func firstRun(t *testing.T, store *memStore, clk *clock, parts *scripted, elapsed time.Duration) {
	t.Helper()
	ready := &onClock{clock: clk}
	s := onClockSyncer(t, store, clk, ready, parts)
	cancel, ran := runCancellable(t, s)
	require.Eventually(t, ready.waits(1), 5*time.Second, time.Millisecond)
	clk.advance(elapsed)
	cancel()
	await(t, ran, "the first run ended")
	state, _ := stateOf(store.get("web"), "a")
	require.Equal(t, status.RollingOut, state)
}

// A leader that takes over a rollout in flight (after a restart, or a
// change of leader) waits for what is left of its health timeout, not a
// fresh one; past it, it looks once: a commit whose objects are ready now
// is deployed, another fails at once. Before, each leader's wait started
// a fresh timeout.
func TestATakenOverRolloutKeepsItsDeadline(t *testing.T) {
	t.Run("resumed", func(t *testing.T) {
		clk, store, parts := newClock(), &memStore{v: map[string]*version.Version{}}, onlyAApplies()
		firstRun(t, store, clk, parts, 3*time.Minute)
		ready := &onClock{clock: clk}
		restarted(t, store, clk, ready, parts)
		require.Eventually(t, ready.waits(1), 5*time.Second, time.Millisecond)
		require.Equal(t, t0.Add(5*time.Minute), ready.deadlines()[0], "the 2m left, not a fresh 5m")
		clk.advance(2 * time.Minute)
		require.Eventually(t, func() bool { s, _ := stateOf(store.get("web"), "a"); return s == status.Failed }, 5*time.Second, time.Millisecond)
		requireTimedOut(t, store, "a")
		require.Equal(t, []string{"a"}, parts.calls(), "awaited, not applied again")
	})
	for _, tc := range []struct {
		name  string
		ready bool
		want  status.State
	}{
		{"past it, still not ready", false, status.Failed},
		{"past it, ready now", true, status.Deployed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk, store, parts := newClock(), &memStore{v: map[string]*version.Version{}}, onlyAApplies()
			firstRun(t, store, clk, parts, time.Minute)
			clk.advance(time.Hour) // no leader meanwhile
			ready := &onClock{clock: clk}
			if tc.ready {
				ready.let("cm-a")
			}
			restarted(t, store, clk, ready, parts)
			require.Eventually(t, func() bool { s, _ := stateOf(store.get("web"), "a"); return s == tc.want }, 5*time.Second, time.Millisecond,
				"a is judged once, at once: %+v", store.get("web").History)
			require.Equal(t, []time.Time{t0.Add(5 * time.Minute)}, ready.deadlines())
			if !tc.ready {
				requireTimedOut(t, store, "a")
			}
		})
	}
}

// A commit applied again (a rollback) has a health timeout of its own,
// from when it was applied again.
func TestARollbackTimesOutFromItsNewApply(t *testing.T) {
	clk, store := newClock(), &memStore{v: map[string]*version.Version{}}
	ready := &onClock{clock: clk}
	h := start(t, store, "a", &scripted{}, ready, func(o *Options) { o.Now, o.HealthTimeout = clk.Now, 5*time.Minute })
	ready.let("cm-a")
	h.eventually("a", status.Deployed)
	ready.let("cm-b")
	h.push("b")
	h.eventually("b", status.Deployed)

	clk.advance(10 * time.Minute)
	h.push("a")
	require.Eventually(t, func() bool {
		st := store.get("web")
		c := st.Find("a")
		return c.State == status.Deployed && c.AppliedAt.Time.Equal(t0.Add(10*time.Minute))
	}, 5*time.Second, time.Millisecond, "a is applied again")
	given := ready.deadlines()
	require.Equal(t, t0.Add(15*time.Minute), given[len(given)-1])
}

// The deadline is the applied time plus the health timeout; a commit
// begun again and not yet applied counts from when it was begun, one a
// restore sent again since from the restore, and a
// time ahead of this replica's clock counts from now. The commit in flight
// the metrics report is overdue by the same rule.
func TestHealthDeadline(t *testing.T) {
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: t0.Add(d)} }
	now := t0.Add(time.Hour)
	for _, tc := range []struct {
		name string
		c    *version.Commit
		want time.Time
	}{
		{"applied", &version.Commit{SHA: "a", FetchedAt: at(0), AppliedAt: at(time.Minute)}, t0.Add(6 * time.Minute)},
		{"begun again", &version.Commit{SHA: "a", FetchedAt: at(30 * time.Minute), AppliedAt: at(time.Minute)}, t0.Add(35 * time.Minute)},
		{"begun", &version.Commit{SHA: "a", FetchedAt: at(30 * time.Minute)}, t0.Add(35 * time.Minute)},
		{"restored since", &version.Commit{SHA: "a", FetchedAt: at(0), AppliedAt: at(time.Minute), RestoredAt: at(20 * time.Minute)}, t0.Add(25 * time.Minute)},
		{"not recorded", nil, now.Add(5 * time.Minute)},
		{"ahead of the clock", &version.Commit{SHA: "a", FetchedAt: at(2 * time.Hour), AppliedAt: at(2 * time.Hour)}, now.Add(5 * time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &version.Version{}
			if tc.c != nil {
				v.Status.History = []version.Commit{*tc.c}
			}
			w := &worker{s: &Syncer{opts: Options{Now: func() time.Time { return now }, HealthTimeout: 5 * time.Minute}}, version: v}
			require.Equal(t, tc.want, w.healthDeadline("a"))
			if tc.c == nil || tc.c.FetchedAt.After(now) {
				return // nothing in flight; a clock ahead is this replica's own concern
			}
			v.Status.Applied, v.Status.Head, v.Status.History[0].State = "a", "a", status.RollingOut
			_, began, ok := lifecycle.InFlight(&v.Status)
			require.True(t, ok)
			require.Equal(t, tc.want, began.Add(5*time.Minute), "the commit in flight is overdue (SyncgateCommitNotFinal) by the same rule")
		})
	}
}
