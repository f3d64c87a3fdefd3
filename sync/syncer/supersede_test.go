package syncer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/readiness"
)

// carried is how sha stands: superseded, carried by whom, with what outcome.
func carried(st version.VersionStatus, sha string) (status.State, string, status.State) {
	if c := st.Find(sha); c != nil {
		return c.State, c.CarriedBy, c.Outcome
	}
	return "", "", ""
}

// A new head ends the rollout wait of the applied commit at once (the
// interrupt) and is applied; the interrupted commit is superseded and takes
// its carrier's outcome, deployed or failed.
func TestNewHeadInterruptsTheRolloutAndCarriesIt(t *testing.T) {
	for _, outcome := range []status.State{status.Deployed, status.Failed} {
		t.Run(string(outcome), func(t *testing.T) {
			store := &memStore{v: map[string]*version.Version{}}
			parts := &scripted{}
			g := newGate()
			var ready Readiness = g
			if outcome == status.Failed {
				ready = failing{g, "b"}
			}
			h := start(t, store, "a", parts, ready)
			h.eventually("a", status.RollingOut)

			h.push("b") // a's objects are never Ready: only the interrupt moves on
			h.eventually("a", status.Superseded)
			require.Equal(t, []string{"a", "b"}, parts.calls())
			state, by, out := carried(store.get("web"), "a")
			require.Equal(t, status.Superseded, state)
			require.Equal(t, "b", by)
			require.Empty(t, out, "no outcome while its carrier rolls out")

			g.let("cm-b")
			h.eventually("b", outcome)
			_, by, out = carried(store.get("web"), "a")
			require.Equal(t, "b", by)
			require.Equal(t, outcome, out, "a takes b's outcome")
			require.Equal(t, "b", store.get("web").Applied)
		})
	}
}

// failing is a gate whose commit fails its rollout instead of turning
// Ready.
type failing struct {
	*gate
	sha string
}

func (f failing) Wait(ctx context.Context, ns string, refs []readiness.Object, deadline time.Time, progress func(readiness.Progress)) error {
	if len(refs) == 1 && refs[0].Name == "cm-"+f.sha {
		if err := f.gate.Wait(ctx, ns, refs, deadline, progress); err != nil {
			return err
		}
		return errors.New("Deployment web: CrashLoopBackOff")
	}
	return f.gate.Wait(ctx, ns, refs, deadline, progress)
}

// A head that moves while a commit is being applied is taken up without
// waiting for the applied commit's rollout, which the new head carries.
func TestHeadMovedDuringApplySkipsTheRolloutWait(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	applying, release := make(chan struct{}), make(chan struct{})
	parts := &scripted{}
	parts.apply = func(sha string, _ []apply.Entry) (*apply.Result, error) {
		if sha == "a" {
			close(applying)
			<-release
		}
		return &apply.Result{Inventory: []apply.Entry{entry("cm-"+sha, "h-"+sha)}}, nil
	}
	g := newGate()
	h := start(t, store, "a", parts, g)
	<-applying
	h.push("b")
	close(release)
	h.eventually("b", status.RollingOut)
	state, by, _ := carried(store.get("web"), "a")
	require.Equal(t, status.Superseded, state, "a's rollout was not awaited")
	require.Equal(t, "b", by)
	g.let("cm-b")
	h.eventually("b", status.Deployed)
	_, _, out := carried(store.get("web"), "a")
	require.Equal(t, status.Deployed, out)
}

// Commits pushed together are recorded, carried by the one applied, and
// take its outcome: CI waiting on any of them gets an answer.
func TestCommitsBetweenAreCarried(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	parts := &scripted{}
	h := start(t, store, "a", parts, readyAtOnce{})
	h.eventually("a", status.Deployed)
	h.src.mu.Lock()
	h.src.between = func(from, to string) []string {
		if from == "a" && to == "d" {
			return []string{"b", "c", "d"}
		}
		return nil
	}
	h.src.mu.Unlock()
	h.push("d")
	h.eventually("d", status.Deployed)
	for _, sha := range []string{"b", "c"} {
		state, by, out := carried(store.get("web"), sha)
		require.Equal(t, status.Superseded, state, sha)
		require.Equal(t, "d", by, sha)
		require.Equal(t, status.Deployed, out, sha)
	}
	require.Equal(t, []string{"a", "d"}, parts.calls(), "the commits between are never applied alone")
}

// A rollout not interrupted is awaited to its end: a fetch that brings no
// new head does not end it.
func TestSameHeadDoesNotInterrupt(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	parts := &scripted{}
	g := newGate()
	h := start(t, store, "a", parts, g)
	h.eventually("a", status.RollingOut)
	h.push("a")
	h.push("a")
	g.let("cm-a")
	h.eventually("a", status.Deployed)
	require.Equal(t, []string{"a"}, parts.calls())
}
