package syncer

import (
	"time"

	"github.com/syncgate/syncgate/status/lifecycle"
)

// healthDeadline is when the rollout of sha, the applied commit, times
// out: Options.HealthTimeout after the time lifecycle.RolloutSince reads
// from the Version (its apply, or a restore since that sent its objects
// again and so began it once more), the one rule lifecycle.InFlight, and
// so the SyncgateCommitNotFinal alert, counts by too. Every wait of that
// rollout ends then, whether it was interrupted by a head that was
// refused, or resumed after a restart or by a new leader; a wait resumed
// past it judges the objects once. It is never further than the health
// timeout from now, whatever another replica's clock wrote.
func (w *worker) healthDeadline(sha string) time.Time {
	now := w.s.opts.Now()
	since, ok := lifecycle.RolloutSince(w.version.Status.Find(sha))
	if !ok || now.Before(since) {
		since = now
	}
	return since.Add(w.s.opts.HealthTimeout)
}

// rolloutSince is when the rollout of sha began as the Version records it
// (lifecycle.RolloutBegan), the time its apply is recorded at; now when
// the Version records none.
func (w *worker) rolloutSince(sha string) time.Time {
	if began, ok := lifecycle.RolloutBegan(w.version.Status.Find(sha)); ok {
		return began
	}
	return w.s.opts.Now()
}
