package lifecycle

import (
	"time"

	"github.com/syncgate/syncgate/status/version"
)

// RolloutBegan is when the rollout of c began as the Version records it:
// when c was applied, or, when it was begun again since (a rollback) and
// not yet applied, when it was begun; a commit applied again starts
// afresh. ok is false when the Version records neither.
func RolloutBegan(c *version.Commit) (began time.Time, ok bool) {
	switch {
	case c == nil || (c.AppliedAt == nil && c.FetchedAt == nil):
		return time.Time{}, false
	case c.AppliedAt == nil, c.FetchedAt != nil && c.FetchedAt.After(c.AppliedAt.Time):
		return c.FetchedAt.Time, true
	}
	return c.AppliedAt.Time, true
}

// RolloutSince is when the health timeout of c's rollout counts from: when
// it began (RolloutBegan), or when a restore since sent its objects again
// and so began it once more (Resent, RestoredAt). The worker's health
// deadline and the commit in flight (InFlight, and so the
// SyncgateCommitNotFinal alert) both count from it.
func RolloutSince(c *version.Commit) (since time.Time, ok bool) {
	since, ok = RolloutBegan(c)
	if ok && c.RestoredAt != nil && c.RestoredAt.After(since) {
		since = c.RestoredAt.Time
	}
	return since, ok
}
