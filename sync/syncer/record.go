package syncer

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// transition is one change of one commit's state, applied to a Version
// status by mark. It returns the updates owed to CI: none when the commit was
// already in that state, so a replay after a restart reports nothing twice.
type transition struct {
	sha    string
	state  status.State
	reason string
	at     time.Time
	ready  int
	total  int
	deploy []string
}

// mark moves one commit to a new state and returns what CI must be told.
func (t transition) mark(st *version.VersionStatus, cluster string) []status.Update {
	c := st.Upsert(t.sha)
	changed := c.State != t.state
	if !changed && c.Reason == t.reason && int(c.Ready) == t.ready && int(c.Total) == t.total {
		return nil
	}
	c.State, c.Reason = t.state, t.reason
	c.Ready, c.Total = int32(t.ready), int32(t.total)
	if len(t.deploy) > 0 {
		c.Deployments = t.deploy
	}
	switch t.state {
	case status.Fetched:
		if c.FetchedAt == nil {
			c.FetchedAt = version.Stamp(t.at)
		}
	case status.Applying:
		if c.FetchedAt == nil {
			c.FetchedAt = version.Stamp(t.at)
		}
	case status.RollingOut:
		c.AppliedAt = version.Stamp(t.at)
		st.Applied, st.AppliedShort, st.AppliedAt = t.sha, status.ShortSHA(t.sha), version.Stamp(t.at)
	case status.Deployed, status.Failed:
		c.FinishedAt = version.Stamp(t.at)
		if t.state == status.Deployed {
			st.Deployed, st.DeployedShort, st.DeployedAt = t.sha, status.ShortSHA(t.sha), version.Stamp(t.at)
		}
	}
	setConditions(st, *c)
	if !changed || t.state == status.Fetched {
		return nil
	}
	updates := []status.Update{updateOf(cluster, *c)}
	if t.state.Terminal() {
		updates = append(updates, resolveCarried(st, cluster, *c)...)
	}
	return updates
}

// supersede marks every unfinished commit other than sha, and the commits
// between the previously applied one and sha, as carried by sha.
func supersede(st *version.VersionStatus, sha string, between []string, at time.Time) {
	for i := range st.History {
		c := &st.History[i]
		if c.SHA == sha {
			continue
		}
		if !c.State.Terminal() {
			c.State, c.CarriedBy, c.FinishedAt = status.Superseded, sha, nil
			c.Reason = "superseded by " + status.ShortSHA(sha)
			continue
		}
		// A commit waiting on a carrier that was itself superseded now waits on sha.
		if c.State == status.Superseded && c.Outcome == "" && c.CarriedBy != sha {
			c.CarriedBy = sha
			c.Reason = "superseded by " + status.ShortSHA(sha)
		}
	}
	for _, b := range between {
		if b == sha || st.Find(b) != nil {
			continue
		}
		c := st.Upsert(b)
		c.State, c.CarriedBy, c.FetchedAt = status.Superseded, sha, version.Stamp(at)
		c.Reason = "superseded by " + status.ShortSHA(sha)
	}
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
			c.Reason = fmt.Sprintf("failed in %s: %s", status.ShortSHA(carrier.SHA), carrier.Reason)
		}
		if c.AppliedAt == nil {
			c.AppliedAt = carrier.AppliedAt
		}
		if len(c.Deployments) == 0 {
			c.Deployments = carrier.Deployments
		}
		out = append(out, updateOf(cluster, *c))
	}
	return out
}

func updateOf(cluster string, c version.Commit) status.Update {
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

// setSourceCondition reports a git problem (unreachable remote, deleted
// branch) without touching the commit record; nil clears it.
func setSourceCondition(st *version.VersionStatus, err error) bool {
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
		Reason: "SourceUnavailable", Message: "config repo: " + err.Error() + "; the cluster is kept as it is",
	})
}
