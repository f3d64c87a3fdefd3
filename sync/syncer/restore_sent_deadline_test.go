package syncer

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
)

// A restore that sent the applied commit's objects again and was then
// refused, or gave up after trouble, began that rollout again all the
// same: it gives the rollout a health timeout of its own from that write,
// recorded with what the write wrote. Before, only a restore that
// completed did: one that ended left the rollout judged at its old
// deadline, right after syncgate itself had restarted it.
func TestARestoreThatSentTheObjectsBeforeItEndedGivesTheRolloutAHealthTimeout(t *testing.T) {
	unavailable := apierrors.NewServiceUnavailable("etcd leader changed")
	refused := apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "cm-a", errors.New("denied by a webhook"))
	for _, tc := range []struct {
		name         string
		first, later error // after the first restore attempt sent cm-a; of the attempts after it, which send nothing
		giveUp       bool
	}{
		{"refused after sending", refused, nil, false},
		{"gave up after trouble", unavailable, unavailable, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk, store := newClock(), &memStore{v: map[string]*version.Version{}}
			ready := &onClock{clock: clk}
			parts := restoringA(true)
			whole, attempts := parts.apply, 0
			parts.apply = func(sha string, prev []apply.Entry) (*apply.Result, error) {
				if sha != "a" || len(prev) == 0 {
					return whole(sha, prev) // b, and a's own apply
				}
				if attempts++; attempts == 1 {
					cmA := entry("cm-a", "h-a")
					live := slices.Clone(prev)
					live[slices.IndexFunc(live, func(e apply.Entry) bool { return e.ObjectRef == cmA.ObjectRef })] = cmA
					return &apply.Result{Inventory: live, Applied: []apply.ObjectRef{cmA.ObjectRef}}, tc.first
				}
				if tc.later != nil {
					return nil, tc.later
				}
				return whole(sha, prev)
			}
			h := start(t, store, "a", parts, ready, func(o *Options) { o.Now, o.HealthTimeout = clk.Now, 5*time.Minute })
			h.eventually("a", status.RollingOut)
			require.Eventually(t, ready.waits(1), 5*time.Second, time.Millisecond)

			clk.advance(4 * time.Minute)
			h.push("b")
			h.eventually("b", status.Failed)
			if tc.giveUp {
				require.Eventually(t, func() bool { return len(parts.calls()) >= 4 }, 5*time.Second, time.Millisecond, "a retried")
				clk.advance(2 * time.Minute) // past RetryBudget
			}
			require.Eventually(t, ready.waits(2), 5*time.Second, time.Millisecond, "a awaited after its restore")
			given := ready.deadlines()
			require.Equal(t, t0.Add(9*time.Minute), given[len(given)-1], "a's rollout timed from the restore's write")
			st := store.get("web")
			require.Equal(t, t0.Add(4*time.Minute), st.Find("a").RestoredAt.Time, "recorded for a leader taking over")
			require.Empty(t, st.Restoring)

			clk.advance(t0.Add(8 * time.Minute).Sub(clk.Now())) // past a's apply + 5m
			ready.let("cm-a")
			ready.let("cm-b") // awaited too when the restore ended without pruning it
			clk.advance(time.Second)
			h.eventually("a", status.Deployed)
		})
	}
}
