package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

func deployedAt(sha string, at time.Time, inv ...version.InventoryEntry) *version.VersionStatus {
	st := &version.VersionStatus{Inventory: inv}
	Begin(st, sha, nil, at, "c")
	Transition{SHA: sha, State: status.RollingOut, At: at, Total: len(inv), Deployments: []string{"web"}}.Apply(st, "c")
	Transition{SHA: sha, State: status.Deployed, At: at, Ready: len(inv), Total: len(inv)}.Apply(st, "c")
	return st
}

func TestOnlyARolledOutNamespaceWithNothingOwedIsSettled(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cm := version.InventoryEntry{Version: "v1", Kind: "ConfigMap", Name: "a", Hash: "h"}
	require.True(t, Settled(deployedAt("a1", at, cm)))
	require.False(t, Settled(&version.VersionStatus{}), "nothing applied yet")

	rolling := deployedAt("a1", at, cm)
	Begin(rolling, "b2", nil, at, "c")
	Transition{SHA: "b2", State: status.RollingOut, At: at}.Apply(rolling, "c")
	require.False(t, Settled(rolling), "the applied commit is still rolling out")

	failed := &version.VersionStatus{}
	Transition{SHA: "a1", State: status.RollingOut, At: at}.Apply(failed, "c")
	Transition{SHA: "a1", State: status.Failed, At: at, Reason: "crash"}.Apply(failed, "c")
	require.False(t, Settled(failed), "a failed rollout is tried again, not carried over")

	orphan := cm
	orphan.Orphan = true
	require.False(t, Settled(deployedAt("a1", at, cm, orphan)), "a prune is still owed")
	unhashed := cm
	unhashed.Hash = ""
	require.False(t, Settled(deployedAt("a1", at, unhashed)), "a half-written apply is still owed")

	reapplied := deployedAt("a1", at, cm)
	Unsettle(reapplied, at)
	Unsettle(reapplied, at.Add(time.Minute))
	require.Equal(t, at, reapplied.UnsettledSince.Time, "the first time is kept")
	require.False(t, Settled(reapplied), "objects applied again are not judged yet")
	Judged(reapplied)
	require.True(t, Settled(reapplied))
}

func TestAnUnchangedCommitIsDeployedInOneWrite(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cm := version.InventoryEntry{Version: "v1", Kind: "ConfigMap", Name: "a", Hash: "h"}
	st := deployedAt("a1", at, cm, cm)
	// x was fetched and left behind by a head that moved on; m was never seen.
	Begin(st, "x", nil, at, "c")

	later := at.Add(time.Minute)
	owed := Unchanged(st, "c3", []string{"m", "c3"}, nil, nil, later, "c")

	require.Equal(t, "c3", st.Head)
	require.Equal(t, "c3", st.Applied)
	require.Equal(t, "c3", st.Deployed)
	c := st.Find("c3")
	require.Equal(t, status.Deployed, c.State)
	require.Equal(t, int32(2), c.Ready)
	require.Equal(t, int32(2), c.Total)
	require.Equal(t, []string{"web"}, c.Deployments)
	require.Equal(t, later, c.AppliedAt.Time)
	require.Equal(t, later, c.FinishedAt.Time)
	require.True(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionReady))
	for _, sha := range []string{"x", "m"} {
		require.Equal(t, status.Superseded, st.Find(sha).State, sha)
		require.Equal(t, status.Deployed, st.Find(sha).Outcome, sha)
	}
	require.Equal(t, status.Deployed, st.Find("a1").State, "the commit before keeps its verdict")

	got := map[string][]status.State{}
	for _, u := range owed {
		got[u.SHA] = append(got[u.SHA], u.State)
	}
	require.Equal(t, map[string][]status.State{
		"c3": {status.RollingOut, status.Deployed},
		"x":  {status.Superseded}, "m": {status.Superseded},
	}, got)

	step, _ := Plan(st, "c3")
	require.Equal(t, Idle, step, "nothing is left to do for the head")
}

// A commit skipped because a newer head came first, whose inputs here were
// the applied commit's, is deployed in its own right: the cluster ran what
// it asks for. It takes neither the newer commit's outcome nor its reports.
func TestASkippedCommitWithTheAppliedInputsIsDeployedNotCarried(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	later := at.Add(time.Minute)
	cm := version.InventoryEntry{Version: "v1", Kind: "ConfigMap", Name: "a", Hash: "h"}
	same := func(sha string) bool { return sha == "s1" || sha == "s2" || sha == "h3" }

	t.Run("coalesced into an unchanged head", func(t *testing.T) {
		st := deployedAt("a1", at, cm)
		owed := Unchanged(st, "h3", []string{"s1", "m2", "s2", "h3"}, same, nil, later, "c")
		for _, sha := range []string{"s1", "s2", "h3"} {
			require.Equal(t, status.Deployed, st.Find(sha).State, sha)
			require.Empty(t, st.Find(sha).CarriedBy, sha)
			require.Equal(t, []string{"web"}, st.Find(sha).Deployments, sha)
		}
		require.Equal(t, status.Superseded, st.Find("m2").State, "it changed the inputs: never run alone")
		require.Equal(t, status.Deployed, st.Find("m2").Outcome)
		require.Equal(t, "h3", st.Applied)
		require.Equal(t, "h3", st.Deployed)
		got := map[string][]status.State{}
		for _, u := range owed {
			got[u.SHA] = append(got[u.SHA], u.State)
		}
		require.Equal(t, map[string][]status.State{
			"s1": {status.Deployed}, "s2": {status.Deployed}, "m2": {status.Superseded},
			"h3": {status.RollingOut, status.Deployed},
		}, got)
	})

	t.Run("before a changed head that fails", func(t *testing.T) {
		st := deployedAt("a1", at, cm)
		Begin(st, "f3", nil, at, "c") // the changed head, begun before s1 was known
		deployed, carried := Partition([]string{"s1", "m2", "f3"}, same)
		owed := AsApplied(st, deployed, later, "c")
		Supersede(st, "f3", carried, nil, later, "c")
		Transition{SHA: "f3", State: status.RollingOut, At: later, Total: 1}.Apply(st, "c")
		Transition{SHA: "f3", State: status.Failed, At: later, Reason: "crash", Total: 1}.Apply(st, "c")

		require.Equal(t, status.Deployed, st.Find("s1").State, "its verdict is not the failure of f3")
		require.Len(t, owed, 1)
		require.Equal(t, status.Deployed, owed[0].State)
		require.Equal(t, status.Superseded, st.Find("m2").State)
		require.Equal(t, status.Failed, st.Find("m2").Outcome)
		require.Equal(t, "f3", st.Applied)
	})

	t.Run("an outcome of its own is kept", func(t *testing.T) {
		st := deployedAt("a1", at, cm)
		Begin(st, "s1", nil, at, "c")
		Transition{SHA: "s1", State: status.Failed, At: at, Reason: "refused"}.Apply(st, "c")
		require.Empty(t, AsApplied(st, []string{"s1", "a1"}, later, "c"))
		require.Equal(t, status.Failed, st.Find("s1").State)
	})
}
