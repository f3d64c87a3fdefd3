package outbox

import (
	"slices"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// What each outcome of a delivery attempt writes to the ledger.

// delivered clears the report and the earlier ones of its commit it
// superseded, and re-arms those its sink refused earlier; it returns how
// many reports it cleared.
//
// A direct success delivered overtakes the direct successes of other
// commits for the same cluster that the sink refused and that were
// recorded before it (see overtaken). They are still posted, as they are
// true of their commits, marked OvertakenBy o's commit so that what they
// post leaves the environment to it: a deployment sink's deployment of
// such a commit ends given way (deployment.Next) instead of staying queued
// or running for ever; the origin sink does so on the application repos
// o's commit names (OvertakerOrigins).
func delivered(st *version.VersionStatus, o version.OwedReport, superseded []version.OwedReport) int {
	gone := slices.Concat(superseded, []version.OwedReport{o})
	for _, e := range overtaken(st, o) {
		if i := find(st, e); i >= 0 {
			st.Owed[i].OvertakenBy, st.Owed[i].OvertakerOrigins = o.SHA, slices.Clone(o.Origins)
		}
	}
	cleared := 0
	for _, e := range gone {
		if i := find(st, e); i >= 0 {
			st.Owed = slices.Delete(st.Owed, i, i+1)
			cleared++
		}
	}
	for i := range st.Owed {
		if st.Owed[i].Sink == o.Sink {
			st.Owed[i].Permanent = false
		}
	}
	setReporting(st)
	return cleared
}

// overtaken are the reports the delivery of o overtakes: when o is a
// direct success (takesEnvironment), the refused direct successes of other
// commits to o's sink and cluster recorded before o. Posted after it as
// they are, such an older success would take the environment from o's
// commit, which runs. Failures and carried outcomes of older commits stay: they
// are the truth about those commits and take no environment. Older is
// earlier in Owed, where Record puts each report when it records it, not
// the order of delivery: a rollback's report, recorded after, is newer and
// stays.
func overtaken(st *version.VersionStatus, o version.OwedReport) []version.OwedReport {
	if !takesEnvironment(o) {
		return nil
	}
	at := find(st, o)
	if at < 0 {
		// Replaced while in flight: the replacement, recorded later, is the
		// commit's word now. When it takes the environment too, what came
		// before it is overtaken now, before this delivery re-arms it.
		at = lastOwed(st.Owed, o.Sink, o.SHA)
		if at < 0 || !takesEnvironment(st.Owed[at]) || st.Owed[at].Cluster != o.Cluster {
			return nil
		}
	}
	var out []version.OwedReport
	for _, e := range st.Owed[:at] {
		if e.Sink == o.Sink && e.Cluster == o.Cluster && e.SHA != o.SHA && e.Permanent && takesEnvironment(e) {
			out = append(out, e)
		}
	}
	return out
}

// takesEnvironment reports whether o, posted to a sink that shows the live
// commit, makes its commit the environment's live one: a commit's own
// success, not one carried by a later commit, nor a failure.
func takesEnvironment(o version.OwedReport) bool {
	return o.State == status.Deployed && o.CarriedBy == ""
}

func refused(st *version.VersionStatus, o version.OwedReport, err error) {
	if i := find(st, o); i >= 0 {
		st.Owed[i].Permanent = true
		st.Owed[i].Attempts++
		st.Owed[i].LastError = errorText(err)
	}
	setReporting(st)
}

func failed(st *version.VersionStatus, o version.OwedReport, err error) {
	if i := find(st, o); i >= 0 {
		st.Owed[i].Attempts++
		st.Owed[i].LastError = errorText(err)
	}
}
