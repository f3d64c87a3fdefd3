package syncer

import "time"

// healthDeadline is when the rollout of sha, the applied commit, times
// out: Options.HealthTimeout after it began (rolloutSince), or after a
// restore since sent its objects again and so began it once more
// (lifecycle.Resent). Every wait of that rollout ends then, whether it was
// interrupted by a head that was refused, or resumed after a restart or
// by a new leader; a wait resumed past it judges the objects once. It is
// never further than the health timeout from now, whatever another
// replica's clock wrote.
func (w *worker) healthDeadline(sha string) time.Time {
	since := w.rolloutSince(sha)
	if c := w.version.Status.Find(sha); c != nil && c.RestoredAt != nil && c.RestoredAt.After(since) {
		since = c.RestoredAt.Time
	}
	if now := w.s.opts.Now(); now.Before(since) {
		since = now
	}
	return since.Add(w.s.opts.HealthTimeout)
}

// rolloutSince is when the rollout of sha began as the Version records
// it: when sha was applied, or, when it was begun again since (a
// rollback) and not yet applied, when it was begun; a commit applied
// again starts afresh. Now when the Version records neither.
func (w *worker) rolloutSince(sha string) time.Time {
	c := w.version.Status.Find(sha)
	switch {
	case c == nil || (c.AppliedAt == nil && c.FetchedAt == nil):
		return w.s.opts.Now()
	case c.AppliedAt == nil:
		return c.FetchedAt.Time
	case c.FetchedAt != nil && c.FetchedAt.After(c.AppliedAt.Time):
		return c.FetchedAt.Time
	}
	return c.AppliedAt.Time
}
