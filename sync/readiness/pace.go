package readiness

import (
	"reflect"
	"time"
)

// progressEvery is how often at most a Wait reports a rollout's
// progress between its first state and its end. The syncer records each
// report in the Version, a status write of the namespace's whole
// inventory: in the first sync of 250 Deployments, one write per
// Deployment turning ready was 25–30 writes of about 140 KiB, 1.7–1.9 s
// of the API server's time, made while its controllers rolled out.
const progressEvery = time.Second

// pacer spaces the progress a Wait reports: the first state and the end
// (every object ready) at once, a change between them no sooner than every
// after the last report, and the latest change even when nothing changes
// after it, once its time comes (due).
type pacer struct {
	every time.Duration
	last  *Progress // reported
	at    time.Time // when last was reported
	held  bool      // a state newer than last waits for its time
}

// offer tells whether p is to be reported now, at now; a change not
// reported now is held until due.
func (pc *pacer) offer(p Progress, now time.Time) bool {
	if pc.last != nil && reflect.DeepEqual(*pc.last, p) {
		pc.held = false
		return false
	}
	if pc.last == nil || p.Ready == p.Total || now.Sub(pc.at) >= pc.every {
		pc.last, pc.at, pc.held = &p, now, false
		return true
	}
	pc.held = true
	return false
}

// due is when a held change may be reported; ok is false when none is held.
func (pc *pacer) due() (at time.Time, ok bool) {
	if !pc.held {
		return time.Time{}, false
	}
	return pc.at.Add(pc.every), true
}
