package lifecycle

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// history is a repo's ancestry: each commit and the commits it holds.
type history map[string][]string

func (h history) IsAncestor(a, b string) (bool, error) {
	return a == b || slices.Contains(h[b], a), nil
}

// owedOf indexes reports by commit; a commit reported twice keeps the last.
func owedOf(owed []status.Update) map[string]status.Update {
	out := map[string]status.Update{}
	for _, u := range owed {
		out[u.SHA] = u
	}
	return out
}

// deployedThenBegun is a namespace that deployed a and began b, which
// carries x and y.
func deployedThenBegun(at time.Time) *version.VersionStatus {
	st := &version.VersionStatus{}
	Begin(st, "a", nil, at, "c")
	Transition{SHA: "a", State: status.RollingOut, At: at}.Apply(st, "c")
	Transition{SHA: "a", State: status.Deployed, At: at}.Apply(st, "c")
	Begin(st, "b", nil, at, "c")
	Carry(st, "b", []string{"x", "y"}, at)
	return st
}

// A commit begun and then pushed over by a force-push to a commit that
// does not hold it (a sibling, or an older commit) fails as dropped from
// the branch, and so do the commits it carried that the new head does not
// hold; what the new head holds is still carried by it. Before, b and x
// were carried by c and reported deployed by it, though none of their
// content ran.
func TestForcePushFailsTheUnfinishedCommitsTheHeadDoesNotHold(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := deployedThenBegun(at)
	repo := history{"c": {"a", "y"}}

	owed := Begin(st, "c", repo.IsAncestor, at.Add(time.Minute), "cluster")

	want := ForcePushedReason("c", false)
	require.Equal(t, "dropped from the branch (force-pushed to c) before it was applied", want)
	got := owedOf(owed)
	require.Len(t, got, 2, "%+v", owed)
	require.Equal(t, status.Failed, got["b"].State)
	require.Equal(t, want, got["b"].Reason)
	require.Equal(t, "cluster", got["b"].Cluster)
	require.Equal(t, status.Failed, got["x"].Effective(), "x follows b, which carried it")
	require.Equal(t, "failed in b: "+want, got["x"].Reason)
	require.Equal(t, status.Superseded, st.Find("y").State)
	require.Equal(t, "c", st.Find("y").CarriedBy, "c holds y")
	require.True(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionReconciling), "c is in progress")
	require.False(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionStalled))

	Transition{SHA: "c", State: status.RollingOut, At: at}.Apply(st, "cluster")
	got = owedOf(Transition{SHA: "c", State: status.Deployed, At: at}.Apply(st, "cluster"))
	require.Equal(t, status.Deployed, got["y"].Effective())
	require.NotContains(t, got, "b")
	for _, sha := range []string{"b", "x"} {
		v := Judge(sha, st, noAncestry{})
		require.Equal(t, string(status.Failed), v.State, sha)
		require.Contains(t, v.Reason, want, sha)
	}
}

// A commit applied and rolling out when the branch is force-pushed to one
// that does not hold it stays the applied commit while the new head is
// begun, its carried commits with it; once the new head is applied, it
// fails as dropped before its rollout finished, and they fail with it.
func TestForcePushFailsTheRollingOutCommitOnceTheHeadIsApplied(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := deployedThenBegun(at)
	Transition{SHA: "b", State: status.RollingOut, At: at}.Apply(st, "c")
	repo := history{"c": {"a", "y"}}

	require.Empty(t, Begin(st, "c", repo.IsAncestor, at, "c"))
	require.Equal(t, "b", st.Find("x").CarriedBy, "x waits on b, whose content runs")
	require.Equal(t, "c", st.Find("y").CarriedBy)

	got := owedOf(Supersede(st, "c", nil, repo.IsAncestor, at, "c"))
	want := ForcePushedReason("c", true)
	require.Equal(t, "dropped from the branch (force-pushed to c) before its rollout finished", want)
	require.Len(t, got, 2)
	require.Equal(t, status.Failed, got["b"].State)
	require.Equal(t, want, got["b"].Reason)
	require.Equal(t, status.Failed, got["x"].Effective())
	require.Equal(t, "failed in b: "+want, got["x"].Reason)
}

// A carried commit whose carrier has left the history fails alone when
// the new head does not hold it: nothing else would ever settle it.
func TestForcePushFailsACarriedCommitWhoseCarrierIsGone(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := deployedThenBegun(at)
	st.History = slices.DeleteFunc(st.History, func(c version.Commit) bool { return c.SHA == "b" })

	got := owedOf(Begin(st, "c", history{}.IsAncestor, at, "c"))
	require.Equal(t, status.Failed, got["x"].Effective())
	require.Equal(t, ForcePushedReason("c", false), got["x"].Reason)
	require.Equal(t, status.Failed, got["y"].Effective())
	require.Len(t, got, 2)
}

// When ancestry cannot be told, the unfinished commits are carried by the
// new head, as before ancestry was asked.
func TestUnknownAncestryCarries(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := deployedThenBegun(at)
	unknown := func(string, string) (bool, error) { return false, errors.New("unknown revision") }

	require.Empty(t, Begin(st, "c", unknown, at, "c"))
	for _, sha := range []string{"b", "x", "y"} {
		require.Equal(t, status.Superseded, st.Find(sha).State, sha)
		require.Equal(t, "c", st.Find(sha).CarriedBy, sha)
	}
}
