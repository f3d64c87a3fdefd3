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
	Begin(st, sha, at)
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
	Begin(rolling, "b2", at)
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
}

func TestAnUnchangedCommitIsDeployedInOneWrite(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cm := version.InventoryEntry{Version: "v1", Kind: "ConfigMap", Name: "a", Hash: "h"}
	st := deployedAt("a1", at, cm, cm)
	// x was fetched and left behind by a head that moved on; m was never seen.
	Begin(st, "x", at)

	later := at.Add(time.Minute)
	owed := Unchanged(st, "c3", []string{"m", "c3"}, later, "c")

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
