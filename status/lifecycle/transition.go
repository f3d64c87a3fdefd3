package lifecycle

import (
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// Transition is one change of one commit's state in one namespace.
type Transition struct {
	SHA    string
	State  status.State
	Reason string
	At     time.Time
	Ready  int
	Total  int
	// Deployments names the Deployments the commit rendered.
	Deployments []string
}

// Apply moves the commit to t's state and returns what CI must be told:
// nothing when the commit was already in that state, so a replay after a
// restart reports nothing twice. A final state also settles every commit
// the commit carried.
func (t Transition) Apply(st *version.VersionStatus, cluster string) []status.Update {
	reason := Bound(t.Reason, MaxReason)
	c := st.Upsert(t.SHA)
	changed := c.State != t.State
	if !changed && c.Reason == reason && int(c.Ready) == t.Ready && int(c.Total) == t.Total {
		return nil
	}
	c.State, c.Reason = t.State, reason
	c.Ready, c.Total = int32(t.Ready), int32(t.Total)
	if len(t.Deployments) > 0 {
		c.Deployments = t.Deployments
	}
	switch t.State {
	case status.Fetched, status.Applying:
		if c.FetchedAt == nil {
			c.FetchedAt = version.Stamp(t.At)
		}
	case status.RollingOut:
		c.AppliedAt = version.Stamp(t.At)
		st.Applied, st.AppliedShort, st.AppliedAt = t.SHA, status.ShortSHA(t.SHA), version.Stamp(t.At)
	case status.Deployed, status.Failed:
		c.FinishedAt = version.Stamp(t.At)
		if t.State == status.Deployed {
			st.Deployed, st.DeployedShort, st.DeployedAt = t.SHA, status.ShortSHA(t.SHA), version.Stamp(t.At)
		}
	}
	setConditions(st, *c)
	if !changed || t.State == status.Fetched {
		return nil
	}
	u := UpdateOf(cluster, *c)
	if reason != t.Reason {
		u.Detail = Bound(t.Reason, MaxDetail)
	}
	updates := []status.Update{u}
	if t.State.Terminal() {
		updates = append(updates, resolveCarried(st, cluster, *c)...)
	}
	return updates
}

// IsAncestor tells whether commit a is commit b or one of its ancestors,
// that is whether b's content holds a's; an error says it cannot tell. A
// nil IsAncestor cannot tell anything.
type IsAncestor func(a, b string) (bool, error)

// Begin starts a fresh attempt at head: the branch moved to it (a new
// commit, or a force-push back to an older one, which is a rollback and is
// applied again whatever its history says). Its entry starts over as
// fetched, and every unfinished commit but head and the applied one that
// head holds is carried by head: it was never tried on its own and takes
// head's outcome. One head does not hold was dropped from the branch by a
// force-push before it was applied: it fails, with the reports a failure
// owes, which Begin returns.
func Begin(st *version.VersionStatus, head string, ancestor IsAncestor, at time.Time, cluster string) []status.Update {
	st.Head = head
	st.Record(version.Commit{SHA: head, State: status.Fetched, FetchedAt: version.Stamp(at)})
	owed := carryUnfinished(st, head, st.Applied, ancestor, at, cluster)
	if len(owed) > 0 {
		setConditions(st, *st.Find(head)) // head is in progress, not the dropped commit failed
	}
	return owed
}

// Supersede records that sha was applied: every unfinished commit other
// than sha that sha holds, and the commits between the previously applied
// one and sha, are carried by sha. Commits already waiting on a carrier that
// is itself superseded now wait on sha. An unfinished commit sha does not
// hold (the one applied before, its rollout cut short by a force-push) fails
// as dropped from the branch; the reports owed are returned.
func Supersede(st *version.VersionStatus, sha string, between []string, ancestor IsAncestor, at time.Time, cluster string) []status.Update {
	owed := carryUnfinished(st, sha, "", ancestor, at, cluster)
	Carry(st, sha, between, at)
	return owed
}

// carryUnfinished makes by the carrier of every commit with no outcome yet
// that by holds, but by itself and spare. The others were dropped from the
// branch: a commit with an unfinished attempt of its own fails, and the
// commits it carried that by does not hold fail with it; a commit carried
// by spare stays with it, its content having been applied; any other
// carried commit by does not hold fails alone.
func carryUnfinished(st *version.VersionStatus, by, spare string, ancestor IsAncestor, at time.Time, cluster string) []status.Update {
	holds := func(sha string) bool {
		if ancestor == nil {
			return true
		}
		ok, err := ancestor(sha, by)
		// When ancestry cannot be told, the commit is carried, as before
		// ancestry was asked: failing a commit by holds would be worse.
		return err != nil || ok
	}
	var dropped []string
	var alone []int
	for i := range st.History {
		c := &st.History[i]
		switch {
		case c.SHA == by || (spare != "" && c.SHA == spare):
		case !c.State.Terminal():
			if holds(c.SHA) {
				carry(c, by)
			} else {
				dropped = append(dropped, c.SHA)
			}
		case c.State == status.Superseded && c.Outcome == "" && c.CarriedBy != by:
			if holds(c.SHA) {
				carry(c, by)
			} else if c.CarriedBy != spare {
				alone = append(alone, i)
			}
		}
	}
	var owed []status.Update
	for _, i := range alone {
		c := &st.History[i]
		if slices.Contains(dropped, c.CarriedBy) {
			continue // fails with its carrier, named in its reason
		}
		c.Outcome, c.FinishedAt = status.Failed, version.Stamp(at)
		c.Reason = ForcePushedReason(by, c.AppliedAt != nil)
		owed = append(owed, UpdateOf(cluster, *c))
	}
	for _, sha := range dropped {
		c := st.Find(sha)
		t := Transition{SHA: sha, State: status.Failed, Reason: ForcePushedReason(by, c.AppliedAt != nil), At: at}
		owed = append(owed, t.Apply(st, cluster)...)
	}
	return owed
}

// Carry gives each commit of between that has no entry of its own one
// carried by sha: they were never tried alone, and take sha's outcome.
func Carry(st *version.VersionStatus, sha string, between []string, at time.Time) {
	for _, b := range between {
		if b == sha || st.Find(b) != nil {
			continue
		}
		c := st.Upsert(b)
		c.FetchedAt = version.Stamp(at)
		carry(c, sha)
	}
}

func carry(c *version.Commit, by string) {
	c.State, c.CarriedBy, c.Outcome, c.FinishedAt = status.Superseded, by, "", nil
	c.Reason = "superseded by " + status.ShortSHA(by)
}

// resolveCarried gives every commit carried by the finished one its outcome.
func resolveCarried(st *version.VersionStatus, cluster string, carrier version.Commit) []status.Update {
	var out []status.Update
	for i := range st.History {
		c := &st.History[i]
		if c.State != status.Superseded || c.CarriedBy != carrier.SHA || c.Outcome != "" {
			continue
		}
		c.Outcome = carrier.State
		c.FinishedAt = carrier.FinishedAt
		if carrier.State == status.Deployed {
			c.Reason = "deployed by " + status.ShortSHA(carrier.SHA)
		} else {
			c.Reason = Bound(fmt.Sprintf("failed in %s: %s", status.ShortSHA(carrier.SHA), carrier.Reason), MaxReason)
		}
		if c.AppliedAt == nil {
			c.AppliedAt = carrier.AppliedAt
		}
		if len(c.Deployments) == 0 {
			c.Deployments = carrier.Deployments
		}
		out = append(out, UpdateOf(cluster, *c))
	}
	return out
}

// UpdateOf is the report of one history entry.
func UpdateOf(cluster string, c version.Commit) status.Update {
	u := status.Update{
		Cluster:     cluster,
		SHA:         c.SHA,
		State:       c.State,
		Reason:      c.Reason,
		CarriedBy:   c.CarriedBy,
		Outcome:     c.Outcome,
		Deployments: c.Deployments,
		Ready:       int(c.Ready),
		Total:       int(c.Total),
		Origins:     c.Origins,
	}
	if c.FetchedAt != nil {
		u.BegunAt = c.FetchedAt.Time
	}
	if c.AppliedAt != nil {
		u.AppliedAt = c.AppliedAt.Time
	}
	if c.FinishedAt != nil {
		u.FinishedAt = c.FinishedAt.Time
	}
	return u
}

// setConditions keeps Ready, Reconciling and Stalled in step with the newest
// commit's state.
func setConditions(st *version.VersionStatus, c version.Commit) {
	msg := fmt.Sprintf("%s %s", status.ShortSHA(c.SHA), c.State)
	if c.Reason != "" {
		msg += ": " + c.Reason
	}
	msg = Bound(msg, MaxReason)
	set := func(typ string, on bool, reason string) {
		s := metav1.ConditionFalse
		if on {
			s = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg})
	}
	switch c.State {
	case status.Fetched, status.Applying, status.RollingOut:
		reason := "Progressing"
		set(version.ConditionReconciling, true, reason)
		set(version.ConditionStalled, false, reason)
		set(version.ConditionReady, false, reason)
	case status.Deployed:
		set(version.ConditionReconciling, false, "Deployed")
		set(version.ConditionStalled, false, "Deployed")
		set(version.ConditionReady, true, "Deployed")
	case status.Failed:
		set(version.ConditionReconciling, false, "Failed")
		set(version.ConditionStalled, true, "Failed")
		set(version.ConditionReady, false, "Failed")
	}
}

// SetSourceCondition reports a git problem (unreachable remote, deleted
// branch) without touching the commit record; nil clears it. It reports
// whether the status changed.
func SetSourceCondition(st *version.VersionStatus, err error) bool {
	if err == nil {
		c := meta.FindStatusCondition(st.Conditions, version.ConditionStalled)
		if c == nil || c.Reason != "SourceUnavailable" {
			return false
		}
		meta.RemoveStatusCondition(&st.Conditions, version.ConditionStalled)
		return true
	}
	return meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: version.ConditionStalled, Status: metav1.ConditionTrue,
		Reason: "SourceUnavailable", Message: Bound("config repo: "+err.Error()+"; the cluster is kept as it is", MaxReason),
	})
}
