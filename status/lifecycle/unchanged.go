package lifecycle

import (
	"slices"
	"time"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// Settled reports whether the namespace runs its applied commit rolled
// out, with nothing left owed (no object that could not be pruned, none
// written by an apply that failed half-way). Only then may a commit whose
// inputs are the applied commit's be recorded deployed without being
// applied (Unchanged): applying it would send nothing and wait for objects
// already judged ready. Objects applied again outside an attempt (a drift
// correction, a restore) unsettle it until a rollout wait judges them
// (Unsettle, Judged).
func Settled(st *version.VersionStatus) bool {
	c := st.Find(st.Applied)
	if c == nil || c.State != status.Deployed || st.UnsettledSince != nil {
		return false
	}
	return !PartlyWritten(st) && !slices.ContainsFunc(st.Inventory, func(e version.InventoryEntry) bool { return e.Orphan })
}

// Unsettle records that objects were applied again at at outside a
// commit's attempt: sent is not judged ready (undoing a hand edit of a
// Deployment starts a rollout that may fail), so the namespace is not
// Settled until Judged. The record is in the Version, so a leader that
// takes over keeps it; the first such time is kept.
func Unsettle(st *version.VersionStatus, at time.Time) {
	if st.UnsettledSince == nil {
		st.UnsettledSince = version.Stamp(at)
	}
}

// Judged records that a rollout wait over every object not answered ready
// ended deployed: what was applied again since Unsettle is judged.
func Judged(st *version.VersionStatus) { st.UnsettledSince = nil }

// PartlyWritten reports whether the namespace holds objects written by an
// apply that did not finish (recorded without a hash): what runs is then
// not what the applied commit made it, until a commit is applied whole.
func PartlyWritten(st *version.VersionStatus) bool {
	return slices.ContainsFunc(st.Inventory, func(e version.InventoryEntry) bool { return e.Hash == "" })
}

// Unchanged records sha, which renders in this namespace exactly what the
// applied commit rendered, as applied and deployed at once, in one status
// write: it becomes the head and the applied commit, and is deployed with
// the applied commit's objects. Of the commits between (oldest first),
// those same says render what the applied commit rendered are deployed in
// their own right (AsApplied), the others are carried by sha (Supersede).
// It owes the reports a commit applied and rolled out owes, and those of
// the unfinished commits sha does not hold, which fail as dropped from the
// branch (Begin). Call it only when Settled.
func Unchanged(st *version.VersionStatus, sha string, between []string, same func(sha string) bool, ancestor IsAncestor, at time.Time, cluster string) []status.Update {
	deployments, total := appliedObjects(st)
	deployed, carried := Partition(between, same)
	deployed = slices.DeleteFunc(deployed, func(b string) bool { return b == sha })
	owed := AsApplied(st, deployed, at, cluster)
	owed = append(owed, Begin(st, sha, ancestor, at, cluster)...)
	owed = append(owed, Supersede(st, sha, carried, ancestor, at, cluster)...)
	t := Transition{SHA: sha, State: status.RollingOut, At: at, Ready: total, Total: total, Deployments: deployments}
	owed = append(owed, t.Apply(st, cluster)...)
	t.State = status.Deployed
	return append(owed, t.Apply(st, cluster)...)
}

// Partition splits commits into those same holds for and the others, each
// in the order given.
func Partition(commits []string, same func(sha string) bool) (deployed, carried []string) {
	for _, c := range commits {
		if same != nil && same(c) {
			deployed = append(deployed, c)
		} else {
			carried = append(carried, c)
		}
	}
	return deployed, carried
}

// AsApplied records each of shas deployed with the applied commit's
// objects: while the namespace was Settled, each became the head holding
// the inputs the applied commit's render read, so the cluster ran what it
// says from the moment it was pushed. Such a commit is deployed whether or
// not the syncer saw it alone: a commit skipped because a newer head came
// first takes no later commit's outcome when what it asked for was live.
// A commit with an outcome of its own keeps it. Call it while Settled, and
// before the entry of any newer commit is written, so History stays newest
// first.
func AsApplied(st *version.VersionStatus, shas []string, at time.Time, cluster string) []status.Update {
	deployments, total := appliedObjects(st)
	var owed []status.Update
	for _, sha := range shas {
		if sha == st.Applied {
			continue
		}
		if c := st.Find(sha); c != nil && c.State.Terminal() && (c.State != status.Superseded || c.Outcome != "") {
			continue
		}
		c := st.Upsert(sha)
		c.CarriedBy, c.Outcome = "", ""
		if c.FetchedAt == nil {
			c.FetchedAt = version.Stamp(at)
		}
		c.AppliedAt = version.Stamp(at)
		owed = append(owed, Transition{SHA: sha, State: status.Deployed, At: at, Ready: total, Total: total, Deployments: deployments}.Apply(st, cluster)...)
	}
	return owed
}

// appliedObjects are the Deployments and the object count of the applied
// commit, which an unchanged commit deploys as well.
func appliedObjects(st *version.VersionStatus) ([]string, int) {
	var deployments []string
	if c := st.Find(st.Applied); c != nil {
		deployments = c.Deployments
	}
	return deployments, len(st.Inventory)
}
