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
	// commit's success leaves the environment to its carrier.
	Retire bool
}

// Retired is the description of a carried commit's deployment retired
// in favour of its carrier's.
func Retired(u status.Update) string {
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
// and a description naming the carrier; with retire (forges whose
// environment shows the newest successful deployment as live, GitHub) a
// carried success is then made inactive, so the carrier stays the one live
// deployment of the environment.
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
	case status.Failed:
		s.Phase = Failed
	case status.Superseded:
		s.Carried = true
		switch {
		case now == Queued || (now == Inactive && !retire):
			s.Phase, s.Description = Inactive, "superseded by "+status.ShortSHA(u.CarriedBy)+" before it applied"
		case now == Inactive:
			return Step{}, false
		case u.Outcome == status.Deployed && retire && now == Succeeded:
			s.Phase, s.Description = Inactive, Retired(u)
		case u.Outcome == status.Deployed:
			s.Phase, s.Retire = Succeeded, retire
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

// Through are the phases a deployment passes before Next's step when the
// forge has not shown them yet. Only a commit's latest report is kept
// until it is delivered, so a rollout that began (or ended) before the
// earlier reports were delivered still shows that it was queued and ran:
// rolling out comes after queued, and an applied commit's own outcome
// (deployed, or failed in its rollout) after queued and running. A commit
// refused before it applied, or carried, goes straight to its outcome.
func Through(u status.Update, now Phase) []Step {
	rolling := u.State == status.RollingOut
	outcome := (u.State == status.Deployed || u.State == status.Failed) && !u.AppliedAt.IsZero()
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
