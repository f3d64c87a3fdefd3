package outbox

import (
	"slices"

	"github.com/syncgate/syncgate/status/version"
)

// What each outcome of a delivery attempt writes to the ledger.

// delivered clears the report and the earlier ones of its commit it
// superseded, and re-arms those its sink refused earlier; it returns how
// many reports it cleared.
//
// On a sink that shows the live commit (live), a final report delivered
// also clears the final reports of other commits the sink refused that
// were recorded before it: posted after it, an older commit's outcome
// would take the environment from the newer one, which runs. Older is
// earlier in Owed, where the lifecycle appends each commit's reports as
// it records them, not the order of delivery: a rollback's report,
// recorded after, is newer and stays.
func delivered(st *version.VersionStatus, o version.OwedReport, superseded []version.OwedReport, live bool) int {
	gone := slices.Concat(superseded, []version.OwedReport{o})
	if live {
		gone = append(gone, overtaken(st, o)...)
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

// overtaken are the refused final reports of other commits to o's sink
// recorded before o, when o is a final report the sink posts.
func overtaken(st *version.VersionStatus, o version.OwedReport) []version.OwedReport {
	u := updateOf("", o)
	if !u.State.Terminal() || u.Held() {
		return nil
	}
	at := find(st, o)
	if at < 0 {
		at = lastOwed(st.Owed, o.Sink, o.SHA) // replaced while in flight: its place is the commit's
	}
	var out []version.OwedReport
	for _, e := range st.Owed[:max(at, 0)] {
		if e.Sink == o.Sink && e.SHA != o.SHA && e.Permanent && e.State.Terminal() {
			out = append(out, e)
		}
	}
	return out
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
