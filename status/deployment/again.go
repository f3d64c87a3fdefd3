package deployment

import (
	"time"

	"github.com/syncgate/syncgate/status"
)

// Again reports whether u deploys its commit again, so it needs a new
// deployment walked from None, rather than a step on the deployment the
// forge shows now, which ended (now is final) when it last changed at
// changed (the forge's time). It is u's own report of a rollout applied
// after that: a rollback A→B→A whose earlier reports were replaced by its
// outcome before they were delivered finds A's deployment of before B
// ended, and Next would post nothing. A replay of the report that ended
// it was applied before it changed, and is not again.
//
// Times are compared to the second, as the forges give them; an unknown
// changed is never again. AppliedAt is the agent's clock and changed the
// forge's: an agent clock ahead by more than the time from an apply to the
// post of its outcome would take a replay of that outcome for a rollback.
// A success overtaken by a newer commit's is never a rollback: a replay of
// it, after its success was posted and before it gave way, must end the
// deployment it began, not begin another.
func Again(u status.Update, now Phase, changed time.Time) bool {
	own := u.State == status.RollingOut || u.State == status.Deployed || u.State == status.Failed
	if !own || u.OvertakenBy != "" || !now.Final() || u.AppliedAt.IsZero() || changed.IsZero() {
		return false
	}
	return u.AppliedAt.Truncate(time.Second).After(changed)
}
