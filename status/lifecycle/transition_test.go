package lifecycle

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

func TestTransitionsOweEachReportOnce(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := &version.VersionStatus{}
	steps := []struct {
		t    Transition
		owed []status.State
	}{
		{Transition{SHA: "a1", State: status.Fetched, At: at}, nil},
		{Transition{SHA: "a1", State: status.Applying, At: at}, []status.State{status.Applying}},
		{Transition{SHA: "a1", State: status.Applying, At: at}, nil}, // replay after a restart
		{Transition{SHA: "a1", State: status.RollingOut, At: at, Total: 3}, []status.State{status.RollingOut}},
		{Transition{SHA: "a1", State: status.RollingOut, At: at, Ready: 2, Total: 3}, nil}, // progress only
		{Transition{SHA: "a1", State: status.Deployed, At: at.Add(42 * time.Second), Ready: 3, Total: 3}, []status.State{status.Deployed}},
		{Transition{SHA: "a1", State: status.Deployed, At: at.Add(43 * time.Second), Ready: 3, Total: 3}, nil},
	}
	for i, s := range steps {
		var got []status.State
		for _, u := range s.t.Apply(st, "c1") {
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
	require.Equal(t, 42*time.Second, UpdateOf("c1", *st.Find("a1")).Duration())
}

func TestSupersededCommitsTakeTheCarriersOutcome(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, outcome := range []status.State{status.Deployed, status.Failed} {
		t.Run(string(outcome), func(t *testing.T) {
			st := &version.VersionStatus{}
			Transition{SHA: "a", State: status.RollingOut, At: at}.Apply(st, "c")
			// b was applied while a rolled out; c while b rolled out; x was never seen alone.
			Supersede(st, "b", nil, nil, at, "c")
			Transition{SHA: "b", State: status.RollingOut, At: at}.Apply(st, "c")
			Supersede(st, "c", []string{"x", "c"}, nil, at, "c")
			Transition{SHA: "c", State: status.RollingOut, At: at}.Apply(st, "c")

			require.Equal(t, status.Superseded, st.Find("a").State)
			require.Equal(t, "c", st.Find("a").CarriedBy, "a follows its carrier's carrier")
			require.Equal(t, "c", st.Find("x").CarriedBy)

			updates := Transition{SHA: "c", State: outcome, Reason: "boom", At: at.Add(time.Minute)}.Apply(st, "c")
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

func TestLongReasonsAreBoundedAndTheWholeTextIsReported(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := &version.VersionStatus{}
	long := strings.Repeat("Deployment web: spec.template: field is immutable; ", 2000)
	Transition{SHA: "a", State: status.RollingOut, At: at}.Apply(st, "c")
	Supersede(st, "b", nil, nil, at, "c")
	updates := Transition{SHA: "b", State: status.Failed, Reason: long, At: at}.Apply(st, "c")
	require.Len(t, updates, 2)
	require.LessOrEqual(t, len(st.Find("b").Reason), MaxReason)
	require.LessOrEqual(t, len(st.Find("a").Reason), MaxReason, "a carried commit's reason too")
	for _, c := range st.Conditions {
		require.LessOrEqual(t, len(c.Message), MaxReason)
	}
	require.Equal(t, long, updates[0].Detail, "the whole text goes to the sinks that keep it")
	require.True(t, utf8.ValidString(Bound("ééééé", 4)))
}

// Each report names the attempt it is of: a rollback begins another, with
// reports of its own attempt, and a rollout's progress keeps its attempt.
func TestReportsNameTheirAttempt(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := &version.VersionStatus{}
	attempt := func(sha string, begun time.Time) []status.Update {
		Begin(st, sha, nil, begun, "c1")
		owed := Transition{SHA: sha, State: status.Applying, At: begun.Add(time.Second)}.Apply(st, "c1")
		owed = append(owed, Transition{SHA: sha, State: status.RollingOut, At: begun.Add(2 * time.Second), Total: 2}.Apply(st, "c1")...)
		owed = append(owed, Transition{SHA: sha, State: status.RollingOut, At: begun.Add(2 * time.Second), Ready: 1, Total: 2}.Apply(st, "c1")...)
		return append(owed, Transition{SHA: sha, State: status.Deployed, At: begun.Add(time.Minute), Ready: 2, Total: 2}.Apply(st, "c1")...)
	}
	requireBegun := func(owed []status.Update, sha string, begun time.Time) {
		t.Helper()
		require.NotEmpty(t, owed)
		for _, u := range owed {
			require.Equal(t, sha, u.SHA)
			require.Equal(t, begun, u.BegunAt, "%s %s", u.SHA, u.State)
		}
	}
	requireBegun(attempt("a1", at), "a1", at)
	requireBegun(attempt("b1", at.Add(time.Hour)), "b1", at.Add(time.Hour))
	requireBegun(attempt("a1", at.Add(2*time.Hour)), "a1", at.Add(2*time.Hour))
}
