package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

type noAncestry struct{}

func (noAncestry) IsAncestor(string, string) (bool, error) { return false, nil }
func (noAncestry) OnBranch(string) (bool, error)           { return true, nil }

// A commit begun and then dropped by a force-push back to the applied
// commit fails, with the commits it carried, and the applied commit is
// what the namespace reports again; a later push of it is a fresh attempt.
func TestResetToTheAppliedCommitFailsWhatWasBegun(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a, b := "aaaaaaaaaaaa1", "bbbbbbbbbbbb2"
	for _, rolling := range []bool{false, true} {
		t.Run(map[bool]string{false: "applied commit deployed", true: "applied commit rolling out"}[rolling], func(t *testing.T) {
			st := &version.VersionStatus{}
			Begin(st, a, nil, at, "c")
			Transition{SHA: a, State: status.Applying, At: at}.Apply(st, "c")
			Transition{SHA: a, State: status.RollingOut, At: at}.Apply(st, "c")
			if !rolling {
				Transition{SHA: a, State: status.Deployed, At: at}.Apply(st, "c")
			}
			Begin(st, b, nil, at, "c")
			Carry(st, b, []string{"x"}, at)
			Transition{SHA: b, State: status.Applying, At: at}.Apply(st, "c")
			_, _, ok := InFlight(st)
			require.True(t, ok)

			step, sha := Plan(st, a)
			require.Equal(t, Reset, step, step.String())
			require.Equal(t, a, sha)
			owed := Drop(st, a, at.Add(time.Minute), "c")

			require.Equal(t, a, st.Head)
			want := DroppedReason(a, false)
			require.Contains(t, want, "reset to "+status.ShortSHA(a))
			v := Judge(b, st, noAncestry{})
			require.True(t, v.Final(), "%+v", v)
			require.Equal(t, string(status.Failed), v.State)
			require.Equal(t, want, v.Reason)
			x := Judge("x", st, noAncestry{})
			require.True(t, x.Final(), "%+v", x)
			require.Equal(t, string(status.Failed), x.State)
			require.Contains(t, x.Reason, want)
			require.Len(t, owed, 2, "b's failure and x's, as any failure owes")
			require.Equal(t, status.Failed, owed[0].State)
			require.Equal(t, b, owed[0].SHA)
			require.Equal(t, "x", owed[1].SHA)
			require.Equal(t, status.Failed, owed[1].Outcome)

			require.Equal(t, a, st.Applied)
			ready := meta.FindStatusCondition(st.Conditions, version.ConditionReady)
			reconciling := meta.FindStatusCondition(st.Conditions, version.ConditionReconciling)
			stalled := meta.FindStatusCondition(st.Conditions, version.ConditionStalled)
			step, sha = Plan(st, a)
			if rolling {
				require.Equal(t, Await, step, "a's rollout is still awaited")
				require.Equal(t, a, sha)
				require.True(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionReconciling), "%+v", reconciling)
				got, _, ok := InFlight(st)
				require.True(t, ok)
				require.Equal(t, a, got)
			} else {
				require.Equal(t, Idle, step, step.String())
				require.True(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionReady), "%+v", ready)
				require.False(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionReconciling), "%+v", reconciling)
				require.False(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionStalled), "%+v", stalled)
				_, _, ok := InFlight(st)
				require.False(t, ok)
			}
			require.Empty(t, Drop(st, a, at.Add(2*time.Minute), "c"), "nothing is reported twice")

			step, sha = Plan(st, b)
			require.Equal(t, Attempt, step, "b pushed again is tried again")
			require.Equal(t, b, sha)
		})
	}
}

// A head refused and then reset away from is tried again when pushed
// again: the reset makes the applied commit the head.
func TestResetAfterARefusalRecordsTheHead(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := &version.VersionStatus{Applied: "a", Head: "b", History: []version.Commit{
		{SHA: "b", State: status.Failed, Reason: "invalid"},
		{SHA: "a", State: status.Deployed},
	}}
	step, _ := Plan(st, "a")
	require.Equal(t, Reset, step, step.String())
	require.Empty(t, Drop(st, "a", at, "c"), "b has its outcome already")
	require.Equal(t, "invalid", st.Find("b").Reason)
	step, _ = Plan(st, "a")
	require.Equal(t, Idle, step, step.String())
	step, _ = Plan(st, "b")
	require.Equal(t, Attempt, step, step.String())
}

// A reset to the applied commit after a commit since wrote part of its
// objects (its apply refused half-way, or still in trouble) marks the
// applied commit to be applied again: what runs is no longer what it made.
// Its own verdict stands, deployed. Before, the namespace went idle while
// the other commit's objects stayed.
func TestResetAfterAPartWriteRestoresTheAppliedCommit(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, refused := range []bool{false, true} {
		t.Run(map[bool]string{false: "the other commit in trouble", true: "the other commit refused half-way"}[refused], func(t *testing.T) {
			st := &version.VersionStatus{}
			Begin(st, "a", nil, at, "c")
			Transition{SHA: "a", State: status.Applying, At: at}.Apply(st, "c")
			st.Inventory = []version.InventoryEntry{{Kind: "ConfigMap", Name: "cm", Hash: "h-a"}}
			Transition{SHA: "a", State: status.RollingOut, At: at}.Apply(st, "c")
			Transition{SHA: "a", State: status.Deployed, At: at}.Apply(st, "c")
			require.True(t, Settled(st))
			Begin(st, "b", nil, at, "c")
			Transition{SHA: "b", State: status.Applying, At: at}.Apply(st, "c")
			st.Inventory = []version.InventoryEntry{{Kind: "ConfigMap", Name: "cm"}, {Kind: "Secret", Name: "new"}}
			require.True(t, PartlyWritten(st))
			if refused {
				Transition{SHA: "b", State: status.Failed, Reason: "forbidden", At: at}.Apply(st, "c")
			}

			step, _ := Plan(st, "a")
			require.Equal(t, Reset, step, step.String())
			owed := Drop(st, "a", at, "c")
			if refused {
				require.Empty(t, owed, "b has its outcome already")
				require.Equal(t, "forbidden", st.Find("b").Reason)
			} else {
				require.Len(t, owed, 1)
				require.Equal(t, DroppedReason("a", true), owed[0].Reason)
				require.Contains(t, owed[0].Reason, "a is applied again")
			}
			require.Equal(t, status.Deployed, st.Find("a").State, "a keeps its verdict")
			for _, head := range []string{"a", ""} { // known, and before a fetch
				step, sha := Plan(st, head)
				require.Equal(t, Restore, step, step.String())
				require.Equal(t, "a", sha)
			}
			_, _, ok := InFlight(st)
			require.False(t, ok, "no commit is under way")

			// Applied whole again: idle, a deployed all along.
			st.Inventory = []version.InventoryEntry{{Kind: "ConfigMap", Name: "cm", Hash: "h-a"}}
			Restored(st)
			step, _ = Plan(st, "a")
			require.Equal(t, Idle, step, step.String())
			require.Equal(t, status.Deployed, st.Find("a").State)
		})
	}
}

// A head refused after it wrote part of its objects marks the applied
// commit to be restored, the head and every verdict staying as they are;
// a restore that could not be made ends, and is not tried in a loop; a new
// head comes before a restore; with nothing written, or no applied commit,
// nothing is marked.
func TestMarkRestoreAfterAPartWriteRefused(t *testing.T) {
	st := &version.VersionStatus{Applied: "a", Head: "b",
		History:   []version.Commit{{SHA: "b", State: status.Failed}, {SHA: "a", State: status.Deployed}},
		Inventory: []version.InventoryEntry{{Kind: "ConfigMap", Name: "cm", Hash: "h-a"}}}
	require.False(t, MarkRestore(st), "nothing written")
	step, _ := Plan(st, "b")
	require.Equal(t, Idle, step, step.String())
	st.Inventory = append(st.Inventory, version.InventoryEntry{Kind: "Secret", Name: "new"})
	require.True(t, MarkRestore(st))
	require.Equal(t, "b", st.Head, "b is not tried again")
	require.Equal(t, status.Deployed, st.Find("a").State)
	step, sha := Plan(st, "b")
	require.Equal(t, Restore, step, step.String())
	require.Equal(t, "a", sha)
	step, sha = Plan(st, "c")
	require.Equal(t, Attempt, step, "a new head first")
	require.Equal(t, "c", sha)

	Restored(st) // could not be made: the inventory keeps what b wrote
	require.True(t, PartlyWritten(st))
	step, _ = Plan(st, "b")
	require.Equal(t, Idle, step, "not tried in a loop")
	require.False(t, MarkRestore(&version.VersionStatus{Inventory: st.Inventory}), "no applied commit")

	st.Restoring = "a"
	st.Applied = "c"
	step, _ = Plan(st, "c")
	require.NotEqual(t, Restore, step, "a mark for a commit no longer applied is inert")
}
