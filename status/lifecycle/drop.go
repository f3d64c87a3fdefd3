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
// was applied: it is begun again (Restore), and Plan applies it. It returns
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
	Restore(st, at)
	if a := st.Find(head); a != nil {
		setConditions(st, *a)
	} else if st.Deployed == head {
		setConditions(st, version.Commit{SHA: head, State: status.Deployed})
	}
	return owed
}

// Restore begins the applied commit again, the head staying where it is,
// when a commit since wrote part of its objects (PartlyWritten): what runs
// is no longer what the applied commit made it, and Plan applies it once
// more, as a rollback is. It reports whether it did.
func Restore(st *version.VersionStatus, at time.Time) bool {
	if st.Applied == "" || !PartlyWritten(st) {
		return false
	}
	head := st.Head
	// What was begun since has failed already: nothing is left for the
	// applied commit to carry or drop, so no ancestry is asked.
	Begin(st, st.Applied, nil, at, "")
	st.Head = head
	return true
}
