package deployment

import (
	"net/http"
	"time"

	"github.com/syncgate/syncgate/status"
)

// BegunAgain describes a deployment its attempt left unfinished (queued
// or running) when a newer attempt at the same commit began: it ends
// (GitHub inactive, GitLab canceled) and the newer attempt gets its own.
const BegunAgain = "begun again: a newer deployment follows"

// Again reports whether u begins a new deployment of its commit rather
// than a step on the newest one the forge shows, which was made for the
// attempt begun at made, in the agent's clock (zero when unknown):
// GitHub's deployment carries its attempt's BegunAt in its payload, and
// the reference gitlabdeploy keeps of a GitLab one (which has no room for
// it) names it; one that does not (a GitHub deployment made before
// syncgate named it, a GitLab one with no reference kept or a bare id
// kept) was made when it was created (Created).
//
// It is u's own report (applying, rolling out, or its outcome) of an
// attempt begun after that: a rollback A→B→A, whose earlier reports may
// have been replaced by its outcome before they were delivered, so that
// its deployed report is the first the forge hears of it. Any report of
// the attempt the deployment was made for is not again, however late it
// comes and whatever its AppliedAt: a replay after a restart, or one of
// a rollout a restore began again. Agent time is compared with agent
// time only, so a clock ahead of or behind the forge's decides nothing.
//
// Times are compared to the second, as the Version and the forges keep
// them. A success overtaken by a newer commit's is again when its attempt
// is newer: a rollback overtaken gets its own deployment, which ends
// overtaken, and the one before keeps its outcome; a replay of it is of
// the attempt its deployment was made for. A carried commit is never
// again: it takes its carrier's outcome on the deployment it has.
func Again(u status.Update, made time.Time) bool {
	own := u.State == status.Applying || u.State == status.RollingOut || u.State == status.Deployed || u.State == status.Failed
	if !own || u.BegunAt.IsZero() || made.IsZero() {
		return false
	}
	return u.BegunAt.Truncate(time.Second).After(made)
}

// Earlier reports whether u is a report of an attempt begun before
// attempt, the one the newest deployment is known to be made for (GitHub's
// payload, the reference kept of a GitLab one): a late report of an earlier attempt, which must not move the
// newer attempt's deployment, so it is not posted at all. Only a
// deployment that names its attempt tells this: one known only by when it
// was created (Created) was made after its own attempt began, so every
// report of that attempt would look earlier.
func Earlier(u status.Update, attempt time.Time) bool {
	if u.BegunAt.IsZero() || attempt.IsZero() {
		return false
	}
	return u.BegunAt.Truncate(time.Second).Before(attempt.Truncate(time.Second))
}

// Created is when a deployment the forge created at created, by its own
// clock, was made in the agent's clock: created moved by how far the
// agent's clock (now, when the forge's answer came) is from the forge's
// (date, that answer's Date header). A deployment that names no attempt
// (all of GitLab's; GitHub's made before syncgate named it) was made for
// none begun after it, so this stands in for its attempt's begin in
// Again when no reference kept names the attempt. With no date that parses, or a zero created, it is unknown
// (zero): the forge's clock is never read as the agent's, so Again then
// keeps to the newest deployment.
func Created(created time.Time, date string, now time.Time) time.Time {
	at, err := http.ParseTime(date)
	if created.IsZero() || err != nil {
		return time.Time{}
	}
	return created.Add(now.Sub(at))
}

// applied reports whether u's attempt applied its commit: u has an
// AppliedAt, and it is not that of an earlier rollout (a rollback refused
// before it applied keeps the AppliedAt of the rollout before).
func applied(u status.Update) bool {
	if u.AppliedAt.IsZero() {
		return false
	}
	return u.BegunAt.IsZero() || !u.AppliedAt.Truncate(time.Second).Before(u.BegunAt.Truncate(time.Second))
}
