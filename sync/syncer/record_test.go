package syncer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

func TestTransitionsOweEachReportOnce(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := &version.VersionStatus{}
	steps := []struct {
		t    transition
		owed []status.State
	}{
		{transition{sha: "a1", state: status.Fetched, at: at}, nil},
		{transition{sha: "a1", state: status.Applying, at: at}, []status.State{status.Applying}},
		{transition{sha: "a1", state: status.Applying, at: at}, nil}, // replay after a restart
		{transition{sha: "a1", state: status.RollingOut, at: at, total: 3}, []status.State{status.RollingOut}},
		{transition{sha: "a1", state: status.RollingOut, at: at, ready: 2, total: 3}, nil}, // progress only
		{transition{sha: "a1", state: status.Deployed, at: at.Add(42 * time.Second), ready: 3, total: 3}, []status.State{status.Deployed}},
		{transition{sha: "a1", state: status.Deployed, at: at.Add(43 * time.Second), ready: 3, total: 3}, nil},
	}
	for i, s := range steps {
		var got []status.State
		for _, u := range s.t.mark(st, "c1") {
			got = append(got, u.State)
			require.Equal(t, "c1", u.Cluster)
		}
		require.Equal(t, s.owed, got, "step %d", i)
	}
	require.Equal(t, "a1", st.Applied)
	require.Equal(t, "a1", st.Deployed)
	require.True(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionReady))
	require.False(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionReconciling))
	require.Equal(t, int32(3), st.Find("a1").Ready)
	require.Equal(t, 42*time.Second, updateOf("c1", *st.Find("a1")).Duration())
}

func TestSupersededCommitsTakeTheCarriersOutcome(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, outcome := range []status.State{status.Deployed, status.Failed} {
		t.Run(string(outcome), func(t *testing.T) {
			st := &version.VersionStatus{}
			transition{sha: "a", state: status.RollingOut, at: at}.mark(st, "c")
			// b was applied while a rolled out; c while b rolled out; x was never seen alone.
			supersede(st, "b", nil, at)
			transition{sha: "b", state: status.RollingOut, at: at}.mark(st, "c")
			supersede(st, "c", []string{"x", "c"}, at)
			transition{sha: "c", state: status.RollingOut, at: at}.mark(st, "c")

			require.Equal(t, status.Superseded, st.Find("a").State)
			require.Equal(t, "c", st.Find("a").CarriedBy, "a follows its carrier's carrier")
			require.Equal(t, "c", st.Find("x").CarriedBy)

			updates := transition{sha: "c", state: outcome, reason: "boom", at: at.Add(time.Minute)}.mark(st, "c")
			got := map[string]status.Update{}
			for _, u := range updates {
				got[u.SHA] = u
			}
			require.Len(t, got, 4)
			require.Equal(t, outcome, got["c"].State)
			for _, sha := range []string{"a", "b", "x"} {
				require.Equal(t, status.Superseded, got[sha].State, sha)
				require.Equal(t, outcome, got[sha].Outcome, sha)
				require.Equal(t, outcome, got[sha].Effective(), sha)
				require.Equal(t, "c", got[sha].CarriedBy, sha)
			}
			if outcome == status.Failed {
				require.Equal(t, "failed in c: boom", got["a"].Reason)
				require.Empty(t, st.Deployed)
			} else {
				require.Equal(t, "deployed by c", got["a"].Reason)
				require.Equal(t, "c", st.Deployed)
			}
		})
	}
}

func TestHistoryIsBoundedButKeepsOwedAndCurrent(t *testing.T) {
	st := &version.VersionStatus{Applied: "keep-applied"}
	st.Owed = []version.OwedReport{{Sink: "s3", SHA: "keep-owed"}}
	st.Upsert("keep-owed")
	st.Upsert("keep-applied")
	for i := 0; i < 2*version.MaxHistory; i++ {
		st.Upsert(string(rune('A'+i%26)) + string(rune('a'+i/26)))
	}
	require.Len(t, st.History, version.MaxHistory)
	require.NotNil(t, st.Find("keep-owed"))
	require.NotNil(t, st.Find("keep-applied"))
}
