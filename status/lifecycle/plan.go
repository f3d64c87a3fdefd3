package lifecycle

import (
	"time"

	"github.com/syncgate/syncgate/status/version"
)

// Step is what a namespace's worker does next.
type Step int

// Steps, as Plan returns them.
const (
	// Idle: the namespace is where the branch says; nothing to do.
	Idle Step = iota
	// Attempt: start a fresh attempt at the sha (call Begin first).
	Attempt
	// Continue: an attempt at the sha is under way (it was interrupted, or
	// hit transient trouble); carry on with it.
	Continue
	// Await: the sha is applied and its rollout has no outcome yet; wait
	// for it.
	Await
	// Reset: the branch head went back to the applied commit, sha, before
	// the commits begun since were applied; record sha as the head and
	// fail them (call Drop), which marks sha to be restored if one of them
	// wrote part of its objects.
	Reset
	// Restore: apply the applied commit, sha, again to undo what a commit
	// since wrote part of (MarkRestore marked it); its verdict stands. Call
	// Restored once it was applied whole or could not be.
	Restore
)

func (s Step) String() string {
	switch s {
	case Attempt:
		return "attempt"
	case Continue:
		return "continue"
	case Await:
		return "await"
	case Reset:
		return "reset"
	case Restore:
		return "restore"
	}
	return "idle"
}

// Plan decides what to do in a namespace whose branch head is head. The
// head is what the cluster should run: when it differs from the applied
// commit it is applied, whatever history says, unless it was already tried
// since it became the head and refused. A commit gets one attempt per time
// it becomes the head, so a refused commit is not retried in a loop, and a
// force-push back to an older commit is applied again.
//
// A head back at the applied commit while another was begun (the branch
// reset before it was applied) drops what was begun first: those commits
// fail, and the applied one is awaited or left as it is; but if a commit
// since wrote part of its objects (an apply that failed or was cut short
// half-way), the applied commit is applied again, once, its own verdict
// standing (MarkRestore). So is it when the head is refused after it wrote
// part of its objects: a broken commit leaves the cluster as it was. A
// new head comes first: its apply sends and prunes all the same.
//
// Before the head is known (the repo not fetched yet after a start), the
// applied commit stands in for it, so a rollout in flight is still awaited.
func Plan(st *version.VersionStatus, head string) (Step, string) {
	known := head != ""
	if !known {
		head = st.Applied
	}
	if head == "" {
		return Idle, ""
	}
	if head == st.Applied {
		if known && ((st.Head != "" && st.Head != head) || len(dropped(st, head)) > 0) {
			return Reset, head
		}
		if restoring(st) {
			return Restore, head
		}
		if c := st.Find(head); c == nil || !c.State.Terminal() {
			return Await, head
		}
		return Idle, ""
	}
	c := st.Find(head)
	switch {
	case st.Head != head || c == nil:
		return Attempt, head
	case !c.State.Terminal():
		return Continue, head
	}
	// The head was refused: the applied commit is still what should run;
	// it is applied again to undo what the head wrote before it was
	// refused (MarkRestore), and its rollout may still owe an outcome.
	if restoring(st) {
		return Restore, st.Applied
	}
	if a := st.Find(st.Applied); a != nil && !a.State.Terminal() {
		return Await, st.Applied
	}
	return Idle, ""
}

// InFlight is the commit a namespace's status says is under way (begun
// and without an outcome, or applied with its rollout unanswered) and when
// its clock started: when it was begun while it is not applied, then what
// its health timeout counts from (RolloutSince), so that a commit is
// overdue by the same rule the worker judges it by. ok is false when none
// is. Whichever replica leads reads it from the Version, so it survives a
// change of leader.
func InFlight(st *version.VersionStatus) (sha string, began time.Time, ok bool) {
	step, sha := Plan(st, st.Head)
	if step == Idle {
		return "", time.Time{}, false
	}
	c := st.Find(sha)
	// A reset or a restore of a commit with an outcome is no commit under
	// way; of one still rolling out, it is that rollout.
	if (step == Reset || step == Restore) && c != nil && c.State.Terminal() {
		return "", time.Time{}, false // what is dropped was never under way here
	}
	if c == nil || c.FetchedAt == nil {
		return "", time.Time{}, false
	}
	began, _ = RolloutSince(c)
	return sha, began, true
}
