package lifecycle

import (
	"fmt"
	"time"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// dropped lists the commits left without an outcome when head, the applied
// commit, is the branch head again: begun since (or carried by one begun
// since) and never applied. Their content never ran and never will.
func dropped(st *version.VersionStatus, head string) []string {
	var out []string
	for _, c := range st.History {
		switch {
		case c.SHA == head:
		case !c.State.Terminal():
			out = append(out, c.SHA)
		case c.State == status.Superseded && c.Outcome == "" && c.CarriedBy != head:
			out = append(out, c.SHA)
		}
	}
	return out
}

// DroppedReason is why a commit the branch was reset away from fails;
// partly says some commit since the applied one wrote part of its objects,
// so head is applied again.
func DroppedReason(head string, partly bool) string {
	if partly {
		return droppedFrom("reset to", head, "it was wholly applied; "+status.ShortSHA(head)+" is applied again")
	}
	return droppedFrom("reset to", head, "it was applied")
}

// ForcePushedReason is why an unfinished commit fails when the branch is
// force-pushed to head, which does not hold it; applied says it was applied
// and its rollout had no outcome yet.
func ForcePushedReason(head string, applied bool) string {
	if applied {
		return droppedFrom("force-pushed to", head, "its rollout finished")
	}
	return droppedFrom("force-pushed to", head, "it was applied")
}

func droppedFrom(how, head, before string) string {
	return fmt.Sprintf("dropped from the branch (%s %s) before %s", how, status.ShortSHA(head), before)
}

// Drop records that the branch head went back to head, the applied commit,
// before the commits begun since were applied: head is the head again (so
// a later push of one of them is a fresh attempt), and each of them fails,
// its content never having run; the commits one carried fail with it. Ready
// and Reconciling follow head's own state again. If the namespace holds
// objects a commit since wrote (PartlyWritten), head no longer runs as it
// was applied: it is marked to be applied again (MarkRestore). It returns
// what CI must be told, as for any failure.
func Drop(st *version.VersionStatus, head string, at time.Time, cluster string) []status.Update {
	st.Head = head
	partly := PartlyWritten(st)
	reason := DroppedReason(head, partly)
	var owed []status.Update
	for _, sha := range dropped(st, head) {
		c := st.Find(sha)
		if c == nil || c.State.Terminal() {
			continue // settled as carried by one failed before it
		}
		owed = append(owed, Transition{SHA: sha, State: status.Failed, Reason: reason, At: at}.Apply(st, cluster)...)
	}
	// Carried by a commit whose entry has left the history.
	for i := range st.History {
		c := &st.History[i]
		if c.SHA == head || c.State != status.Superseded || c.Outcome != "" || c.CarriedBy == head {
			continue
		}
		c.Outcome, c.Reason, c.FinishedAt = status.Failed, reason, version.Stamp(at)
		owed = append(owed, UpdateOf(cluster, *c))
	}
	MarkRestore(st)
	if a := st.Find(head); a != nil {
		setConditions(st, *a)
	} else if st.Deployed == head {
		setConditions(st, version.Commit{SHA: head, State: status.Deployed})
	}
	return owed
}

// MarkRestore marks the applied commit to be applied again when a commit
// since wrote part of its objects (PartlyWritten): what runs is no longer
// what the applied commit made it. Its verdict stands (a commit that
// reached its own final state keeps it); Plan says Restore until Restored.
// It reports whether it marked it.
func MarkRestore(st *version.VersionStatus) bool {
	if st.Applied == "" || !PartlyWritten(st) {
		return false
	}
	st.Restoring = st.Applied
	return true
}

// Restored ends a restore: the applied commit was applied again whole, or
// could not be (what the other commit wrote then stays in the inventory
// without a hash, for a later commit to send again or prune).
func Restored(st *version.VersionStatus) { st.Restoring = "" }

// Resent records that a restore sent objects of the applied commit again
// at at, objects with a rollout to wait for: while the commit has no
// outcome, its rollout began again then, and its health timeout counts
// from then (RestoredAt), not from its apply. A commit with its outcome
// keeps it, and nothing is recorded.
func Resent(st *version.VersionStatus, at time.Time) {
	if c := st.Find(st.Applied); c != nil && !c.State.Terminal() {
		c.RestoredAt = version.Stamp(at)
	}
}

// restoring reports whether the applied commit is marked to be restored.
func restoring(st *version.VersionStatus) bool {
	return st.Restoring != "" && st.Restoring == st.Applied
}
