package outbox

import (
	"slices"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// MaxOwedPerSink bounds the reports owed to one sink in one namespace, so a
// sink that stays down or refuses for days cannot grow the Version without
// end. Past it the oldest refused reports go first, then the oldest
// non-final ones, then the oldest.
const MaxOwedPerSink = 100

// Record adds to st one report of u per sink. Call it inside the status
// update that records the transition, so the transition and the reports it
// owes are written together.
//
// Only the latest meaning matters: a report not yet delivered for the same
// commit and sink is replaced by the newer transition, except that a final
// report (deployed, failed, superseded) is never replaced by a non-final
// one; the non-final one then queues behind it.
//
// Each report carries what its sink kept of the commit at an earlier
// delivery (see kept).
//
// A report's place in Owed is when it was recorded: a replacing report
// goes to the end like a new one, so a rollback's report is newer than
// those of the commits it rolled back from (see overtaken).
func Record(st *version.VersionStatus, u status.Update, sinks []string) {
	for _, sink := range sinks {
		i := lastOwed(st.Owed, sink, u.SHA)
		if i >= 0 && (!st.Owed[i].State.Terminal() || u.State.Terminal()) {
			st.Owed = slices.Delete(st.Owed, i, i+1)
		}
		o := owedOf(sink, u)
		if c := st.Find(u.SHA); c != nil {
			o.Ref = c.SinkRefs[sink]
		}
		st.Owed = append(st.Owed, o)
		bound(st, sink)
	}
}

func lastOwed(owed []version.OwedReport, sink, sha string) int {
	for i := len(owed) - 1; i >= 0; i-- {
		if owed[i].Sink == sink && owed[i].SHA == sha {
			return i
		}
	}
	return -1
}

// bound drops reports of sink beyond MaxOwedPerSink.
func bound(st *version.VersionStatus, sink string) {
	count := 0
	for _, o := range st.Owed {
		if o.Sink == sink {
			count++
		}
	}
	for ; count > MaxOwedPerSink; count-- {
		victim := -1
		for _, pick := range []func(version.OwedReport) bool{
			func(o version.OwedReport) bool { return o.Permanent },
			func(o version.OwedReport) bool { return !o.State.Terminal() },
			func(version.OwedReport) bool { return true },
		} {
			for i, o := range st.Owed {
				if o.Sink == sink && pick(o) {
					victim = i
					break
				}
			}
			if victim >= 0 {
				break
			}
		}
		st.Owed = append(st.Owed[:victim], st.Owed[victim+1:]...)
	}
}

func owedOf(sink string, u status.Update) version.OwedReport {
	o := version.OwedReport{Sink: sink, Cluster: u.Cluster, SHA: u.SHA, State: u.State, Reason: u.Reason,
		CarriedBy: u.CarriedBy, Outcome: u.Outcome, Ready: int32(u.Ready), Total: int32(u.Total)}
	if len(u.Deployments) > 0 {
		o.Deployments = append([]string(nil), u.Deployments...)
	}
	if len(u.Origins) > 0 {
		o.Origins = append([]string(nil), u.Origins...)
	}
	o.BegunAt = version.Stamp(u.BegunAt)
	o.AppliedAt = version.Stamp(u.AppliedAt)
	o.FinishedAt = version.Stamp(u.FinishedAt)
	return o
}

// updateOf rebuilds the Update an owed report was recorded from.
func updateOf(namespace string, o version.OwedReport) status.Update {
	u := status.Update{Cluster: o.Cluster, Namespace: namespace, SHA: o.SHA, State: o.State, Reason: o.Reason,
		CarriedBy: o.CarriedBy, Outcome: o.Outcome, Deployments: o.Deployments, Ready: int(o.Ready), Total: int(o.Total), Origins: o.Origins,
		OvertakenBy: o.OvertakenBy, OvertakerOrigins: o.OvertakerOrigins, Ref: o.Ref}
	if o.BegunAt != nil {
		u.BegunAt = o.BegunAt.UTC()
	}
	if o.AppliedAt != nil {
		u.AppliedAt = o.AppliedAt.UTC()
	}
	if o.FinishedAt != nil {
		u.FinishedAt = o.FinishedAt.UTC()
	}
	return u
}

// kept records ref, what sink kept of commit sha at a delivery, on the
// commit's history entry and on the reports of it still owed to sink, so
// the sink's next report of the commit carries it.
func kept(st *version.VersionStatus, sink, sha, ref string) {
	if ref == "" {
		return
	}
	if c := st.Find(sha); c != nil {
		if c.SinkRefs == nil {
			c.SinkRefs = map[string]string{}
		}
		c.SinkRefs[sink] = ref
	}
	for i := range st.Owed {
		if st.Owed[i].Sink == sink && st.Owed[i].SHA == sha {
			st.Owed[i].Ref = ref
		}
	}
}
