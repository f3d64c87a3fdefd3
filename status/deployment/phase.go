package deployment

import (
	"github.com/syncgate/syncgate/status"
)

// Phase is where a commit's deployment stands, in terms both forges have.
type Phase string

// Phases, with GitHub's and GitLab's names for them.
const (
	None Phase = "" // no deployment yet
	// Queued: the commit is being applied (GitHub queued, GitLab created).
	Queued Phase = "queued"
	// Running: applied, rolling out (GitHub in_progress, GitLab running).
	Running Phase = "running"
	// Succeeded: deployed, directly or carried (GitHub success, GitLab success).
	Succeeded Phase = "succeeded"
	// Failed: failed, directly or carried (GitHub failure, GitLab failed).
	Failed Phase = "failed"
	// Inactive: its own attempt began and a newer commit was applied before
	// it was (GitHub inactive, GitLab canceled).
	Inactive Phase = "inactive"
)

// Final reports whether p ends a deployment.
func (p Phase) Final() bool { return p == Succeeded || p == Failed || p == Inactive }

// Step is what a sink posts for one report.
type Step struct {
	Phase       Phase
	Description string
	// Carried is set for a commit reported with its carrier's outcome: it
	// must not take the environment from its carrier (GitHub auto_inactive
	// off).
	Carried bool
	// Retire asks for an Inactive status right after Phase: a carried
	// commit's success, or an overtaken one, leaves the environment to the
	// newer commit.
	Retire bool
}

// Retired is the description of a deployment retired in favour of a newer
// commit's: the carrier of a carried commit, or the commit whose success
// overtook an older one's (status.Update.OvertakenBy).
func Retired(u status.Update) string {
	if u.OvertakenBy != "" {
		return "overtaken by " + status.ShortSHA(u.OvertakenBy) + ", which holds the environment"
	}
	return "deployed by " + status.ShortSHA(u.CarriedBy) + ", which holds the environment"
}

// Next is what the deployment of u should show, given the phase it shows
// now (None when the commit has no deployment yet); ok is false when
// nothing is to be posted: the forge already shows it, or u is a
// superseded commit whose carrier has no outcome yet.
//
// A superseded commit whose own deployment is still queued was overtaken
// before it applied: its deployment ends inactive ("superseded by …"). Any
// other carried commit gets its own deployment with the carrier's outcome
// and a description naming the carrier. A success must not take the
// environment from a newer commit, though: a carried one from its carrier,
// nor one posted late (OvertakenBy) from the commit whose success went out
// before it (see givesWay).
func Next(u status.Update, now Phase, retire bool) (Step, bool) {
	if u.Held() {
		return Step{}, false
	}
	s := Step{Description: status.Description(u)}
	switch u.State {
	case status.Fetched, status.Applying:
		s.Phase = Queued
	case status.RollingOut:
		s.Phase = Running
	case status.Deployed:
		s.Phase = Succeeded
		if u.OvertakenBy != "" {
			return givesWay(s, now, retire, Retired(u))
		}
	case status.Failed:
		s.Phase = Failed
	case status.Superseded:
		s.Carried = true
		switch {
		case now == Queued || (now == Inactive && !retire):
			s.Phase, s.Description = Inactive, "superseded by "+status.ShortSHA(u.CarriedBy)+" before it applied"
		case u.Outcome == status.Deployed:
			return givesWay(s, now, retire, Retired(u))
		case now == Inactive:
			return Step{}, false
		default:
			s.Phase = Failed
		}
	default:
		return Step{}, false
	}
	if s.Phase == now || (s.Phase == Succeeded && now == Inactive) {
		// Inactive after success: a newer deployment of the environment
		// took over; a replay must not take it back.
		return Step{}, false
	}
	return s, true
}

// givesWay is the step of a success that leaves the environment to a newer
// commit. With retire (GitHub, where a success retires the environment's
// earlier deployments and the newest success is live) it is a success that
// retires none, then an Inactive status (why); a success shown already
// gets the Inactive status a crash cut off. Without (GitLab, whose
// environment shows the deployment that succeeded last, and has no
// inactive state) it is no success at all: the deployment ends Inactive
// (canceled), one shown successful included, so the newer commit's is the
// last success.
func givesWay(s Step, now Phase, retire bool, why string) (Step, bool) {
	s.Carried = true
	switch {
	case now == Inactive:
		return Step{}, false
	case retire && now != Succeeded:
		s.Phase, s.Retire = Succeeded, true
	default:
		s.Phase, s.Description = Inactive, why
	}
	return s, true
}

// Through are the phases a deployment passes before Next's step when the
// forge has not shown them yet. Only a commit's latest report is kept
// until it is delivered, so a rollout that began (or ended) before the
// earlier reports were delivered still shows that it was queued and ran:
// rolling out comes after queued, and an applied commit's own outcome
// (deployed, or failed in its rollout) after queued and running. A commit
// refused before it applied, a rollback to it included, or carried, goes
// straight to its outcome.
func Through(u status.Update, now Phase) []Step {
	rolling := u.State == status.RollingOut
	outcome := (u.State == status.Deployed || u.State == status.Failed) && applied(u)
	if !rolling && !outcome {
		return nil
	}
	var steps []Step
	if now == None {
		queued := u
		queued.State = status.Applying
		steps = append(steps, Step{Phase: Queued, Description: status.Description(queued)})
		now = Queued
	}
	if now == Queued && outcome {
		running := u
		running.State = status.RollingOut
		steps = append(steps, Step{Phase: Running, Description: status.Description(running)})
	}
	return steps
}
