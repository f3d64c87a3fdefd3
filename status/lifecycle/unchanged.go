package lifecycle

import (
	"time"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// Settled reports whether the namespace runs its applied commit rolled
// out, with nothing left owed (no object that could not be pruned, none
// written by an apply that failed half-way). Only then may a commit whose
// inputs are the applied commit's be recorded deployed without being
// applied (Unchanged): applying it would send nothing and wait for objects
// already judged ready.
func Settled(st *version.VersionStatus) bool {
	c := st.Find(st.Applied)
	if c == nil || c.State != status.Deployed {
		return false
	}
	for _, e := range st.Inventory {
		if e.Orphan || e.Hash == "" {
			return false
		}
	}
	return true
}

// Unchanged records sha, which renders in this namespace exactly what the
// applied commit rendered, as applied and deployed at once, in one status
// write: it becomes the head and the applied commit, carries the commits
// between (as Supersede), and is deployed with the applied commit's
// objects. It owes the reports a commit applied and rolled out owes. Call
// it only when Settled.
func Unchanged(st *version.VersionStatus, sha string, between []string, at time.Time, cluster string) []status.Update {
	var deployments []string
	if c := st.Find(st.Applied); c != nil {
		deployments = c.Deployments
	}
	total := len(st.Inventory)
	Begin(st, sha, at)
	Supersede(st, sha, between, at)
	t := Transition{SHA: sha, State: status.RollingOut, At: at, Ready: total, Total: total, Deployments: deployments}
	owed := t.Apply(st, cluster)
	t.State = status.Deployed
	return append(owed, t.Apply(st, cluster)...)
}
