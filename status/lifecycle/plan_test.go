package lifecycle

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

func TestPlan(t *testing.T) {
	entry := func(sha string, s status.State) version.Commit { return version.Commit{SHA: sha, State: s} }
	cases := []struct {
		name string
		st   version.VersionStatus
		head string
		step Step
		sha  string
	}{
		{"nothing known yet", version.VersionStatus{}, "", Idle, ""},
		{"first head", version.VersionStatus{}, "a", Attempt, "a"},
		{"head deployed", version.VersionStatus{Applied: "a", Head: "a", History: []version.Commit{entry("a", status.Deployed)}}, "a", Idle, ""},
		{"head rolling out, after a restart", version.VersionStatus{Applied: "a", Head: "a", History: []version.Commit{entry("a", status.RollingOut)}}, "a", Await, "a"},
		{"head unknown, applied rolling out", version.VersionStatus{Applied: "a", History: []version.Commit{entry("a", status.RollingOut)}}, "", Await, "a"},
		{"head failed its rollout", version.VersionStatus{Applied: "a", Head: "a", History: []version.Commit{entry("a", status.Failed)}}, "a", Idle, ""},
		{"new head", version.VersionStatus{Applied: "a", Head: "a", History: []version.Commit{entry("a", status.Deployed)}}, "b", Attempt, "b"},
		{"attempt under way", version.VersionStatus{Applied: "a", Head: "b", History: []version.Commit{entry("b", status.Applying), entry("a", status.Deployed)}}, "b", Continue, "b"},
		{"head refused: not retried", version.VersionStatus{Applied: "a", Head: "b", History: []version.Commit{entry("b", status.Failed), entry("a", status.Deployed)}}, "b", Idle, ""},
		{"head refused while the applied one rolls out", version.VersionStatus{Applied: "a", Head: "b", History: []version.Commit{entry("b", status.Failed), entry("a", status.RollingOut)}}, "b", Await, "a"},
		{"rollback to a deployed commit", version.VersionStatus{Applied: "b", Head: "b", History: []version.Commit{entry("b", status.Deployed), entry("a", status.Deployed)}}, "a", Attempt, "a"},
		{"rollback to a carried commit", version.VersionStatus{Applied: "b", Head: "b", History: []version.Commit{entry("b", status.Deployed), {SHA: "a", State: status.Superseded, CarriedBy: "b", Outcome: status.Deployed}}}, "a", Attempt, "a"},
		{"back to a refused commit after another head", version.VersionStatus{Applied: "a", Head: "c", History: []version.Commit{entry("c", status.Failed), entry("b", status.Failed), entry("a", status.Deployed)}}, "b", Attempt, "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			step, sha := Plan(&tc.st, tc.head)
			require.Equal(t, tc.step, step, step.String())
			require.Equal(t, tc.sha, sha)
		})
	}
}

func TestBeginStartsOverAndCarriesTheUnfinished(t *testing.T) {
	st := &version.VersionStatus{Applied: "a", Head: "b", History: []version.Commit{
		{SHA: "b", State: status.Applying},
		{SHA: "x", State: status.Superseded, CarriedBy: "b"},
		{SHA: "a", State: status.RollingOut},
		{SHA: "old", State: status.Deployed, Reason: "deployed in 3s"},
	}}
	Begin(st, "old", nil, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "c")
	require.Equal(t, "old", st.Head)
	c := st.Find("old")
	require.Equal(t, status.Fetched, c.State, "a rollback starts over")
	require.Empty(t, c.Reason)
	require.Equal(t, status.Superseded, st.Find("b").State)
	require.Equal(t, "old", st.Find("b").CarriedBy)
	require.Equal(t, "old", st.Find("x").CarriedBy, "a commit waiting on b now waits on old")
	require.Equal(t, status.RollingOut, st.Find("a").State, "the applied commit is left to its own outcome")
}

func TestCombineIsInNameOrder(t *testing.T) {
	per := map[string]Verdict{
		"web": {State: string(status.Failed), Reason: "CrashLoopBackOff"},
		"api": {State: string(status.Failed), Reason: "ImagePullBackOff"},
		"db":  {State: string(status.Deployed)},
	}
	for range 20 {
		require.Equal(t, "api: ImagePullBackOff", Combine(per).Reason)
	}
	progress := Combine(map[string]Verdict{
		"a": {State: string(status.RollingOut), Ready: 1, Total: 2},
		"b": {State: string(status.RollingOut), Ready: 2, Total: 3},
		"c": {State: string(status.Deployed)},
	})
	require.Equal(t, Verdict{State: string(status.RollingOut), Ready: 3, Total: 5}, progress)
}

// ancestors is a linear branch: every commit is an ancestor of the later.
type ancestors []string

func (a ancestors) IsAncestor(x, y string) (bool, error) {
	return slices.Index(a, x) >= 0 && slices.Index(a, x) <= slices.Index(a, y), nil
}
func (a ancestors) OnBranch(x string) (bool, error) { return slices.Contains(a, x), nil }

// A failed commit keeps its verdict after its entry leaves the bounded
// history, though it is an ancestor of a deployed commit.
func TestFailedVerdictOutlivesItsHistoryEntry(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := &version.VersionStatus{}
	var branch ancestors
	commit := func(sha string, s status.State) {
		branch = append(branch, sha)
		Begin(st, sha, nil, at, "c")
		if s == status.Failed {
			Transition{SHA: sha, State: status.Failed, Reason: "CrashLoopBackOff", At: at}.Apply(st, "c")
			return
		}
		Supersede(st, sha, nil, nil, at, "c")
		Transition{SHA: sha, State: status.RollingOut, At: at}.Apply(st, "c")
		Transition{SHA: sha, State: s, At: at}.Apply(st, "c")
	}
	commit("bad", status.Failed)
	require.Equal(t, string(status.Failed), Judge("bad", st, branch).State)
	for i := range 2 * version.MaxHistory {
		commit(fmt.Sprintf("good-%03d", i), status.Deployed)
	}
	require.Nil(t, st.Find("bad"), "trimmed from the history")
	v := Judge("bad", st, branch)
	require.Equal(t, string(status.Failed), v.State, v.Reason)
	require.Equal(t, string(status.Deployed), Judge("good-000", st, branch).State, "a trimmed deployed commit is carried by the deployed head")
}
