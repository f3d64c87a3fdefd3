package version_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

func sha(i int) string { return fmt.Sprintf("%040x", i) }

func shas(h []version.Commit) []string {
	out := []string{}
	for _, c := range h {
		out = append(out, c.SHA)
	}
	return out
}

func TestRecordUpsertsNewestFirst(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	st := &version.VersionStatus{}
	st.Record(version.Commit{SHA: sha(1), State: status.Fetched, FetchedAt: &at})
	st.Record(version.Commit{SHA: sha(2), State: status.Fetched})
	require.Equal(t, []string{sha(2), sha(1)}, shas(st.History))

	// An update keeps its place and the times it does not restate.
	st.Record(version.Commit{SHA: sha(1), State: status.Superseded, CarriedBy: sha(2), Outcome: status.Deployed})
	require.Equal(t, []string{sha(2), sha(1)}, shas(st.History))
	c := st.Find(sha(1))
	require.NotNil(t, c)
	require.Equal(t, status.Superseded, c.State)
	require.Equal(t, &at, c.FetchedAt)

	c.Reason = "edited in place"
	require.Equal(t, "edited in place", st.History[1].Reason)
	require.Nil(t, st.Find(sha(3)))
	require.Nil(t, st.Find(""))
}

func TestRecordIsBoundedButKeepsWhatIsOwed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		owed     []int
		applied  int // sha(applied) is the applied commit, when not 0
		deployed int
		recorded int
		wantLen  int
		kept     []int
		gone     []int
	}{
		{name: "under the bound", recorded: 10, wantLen: 10, kept: []int{0, 9}},
		{name: "oldest dropped", recorded: version.MaxHistory + 3, wantLen: version.MaxHistory, kept: []int{3, 52}, gone: []int{0, 1, 2}},
		{name: "owed entries stay", owed: []int{0, 2}, recorded: version.MaxHistory + 3, wantLen: version.MaxHistory, kept: []int{0, 2, 52}, gone: []int{1, 3, 4}},
		{name: "applied and deployed stay", applied: 1, deployed: 2, recorded: version.MaxHistory + 3, wantLen: version.MaxHistory, kept: []int{1, 2, 52}, gone: []int{0, 3, 4}},
		{name: "more owed than the bound", owed: seq(0, version.MaxHistory+2), recorded: version.MaxHistory + 2, wantLen: version.MaxHistory + 2, kept: []int{0, 51}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &version.VersionStatus{}
			if tc.applied != 0 {
				st.Applied, st.Deployed = sha(tc.applied), sha(tc.deployed)
			}
			for _, i := range tc.owed {
				st.Owed = append(st.Owed, version.OwedReport{Sink: "s3", SHA: sha(i), State: status.Deployed})
			}
			for i := 0; i < tc.recorded; i++ {
				st.Record(version.Commit{SHA: sha(i), State: status.Deployed})
			}
			require.Len(t, st.History, tc.wantLen)
			for _, k := range tc.kept {
				require.NotNil(t, st.Find(sha(k)), "commit %d kept", k)
			}
			for _, g := range tc.gone {
				require.Nil(t, st.Find(sha(g)), "commit %d dropped", g)
			}
			require.Equal(t, sha(tc.recorded-1), st.History[0].SHA, "newest first")
		})
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func TestSetCondition(t *testing.T) {
	st := &version.VersionStatus{}
	require.True(t, st.SetCondition(metav1.Condition{Type: version.ConditionReady, Status: metav1.ConditionFalse, Reason: "RollingOut", Message: "1/3"}))
	first := st.Condition(version.ConditionReady).LastTransitionTime
	require.False(t, first.IsZero())
	require.True(t, st.SetCondition(metav1.Condition{Type: version.ConditionReady, Status: metav1.ConditionFalse, Reason: "RollingOut", Message: "2/3"}))
	require.Equal(t, first, st.Condition(version.ConditionReady).LastTransitionTime, "same status: transition time kept")
	require.False(t, st.SetCondition(metav1.Condition{Type: version.ConditionReady, Status: metav1.ConditionFalse, Reason: "RollingOut", Message: "2/3"}))
	require.Nil(t, st.Condition(version.ConditionStalled))
}

// What sinks keep of a commit (the outbox writes it as it delivers) stays
// when the syncer records the commit's next state.
func TestRecordKeepsWhatSinksKeep(t *testing.T) {
	var st version.VersionStatus
	st.Record(version.Commit{SHA: "a", State: status.Applying})
	st.Find("a").SinkRefs = map[string]string{"gitlab-deployments": "42"}
	st.Record(version.Commit{SHA: "a", State: status.Deployed})
	require.Equal(t, status.Deployed, st.Find("a").State)
	require.Equal(t, map[string]string{"gitlab-deployments": "42"}, st.Find("a").SinkRefs)
}
