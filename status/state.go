package status

import "time"

// State is where one commit stands in one namespace.
type State string

// The commit lifecycle: fetched → applying → rolling-out → deployed | failed,
// and superseded when a newer commit was applied before this one finished.
const (
	Fetched    State = "fetched"
	Applying   State = "applying"
	RollingOut State = "rolling-out"
	Deployed   State = "deployed"
	Failed     State = "failed"
	Superseded State = "superseded"
)

// Terminal reports whether no further transition follows s.
func (s State) Terminal() bool {
	return s == Deployed || s == Failed || s == Superseded
}

// Valid reports whether s is one of the lifecycle states.
func (s State) Valid() bool {
	switch s {
	case Fetched, Applying, RollingOut, Deployed, Failed, Superseded:
		return true
	}
	return false
}

// Update is one transition of one commit in one namespace, as reporters see it.
type Update struct {
	Cluster   string
	Namespace string
	SHA       string
	State     State
	// Reason says why a commit failed, or how far a rollout got; bounded
	// to fit the Version that records it.
	Reason string
	// Detail is the whole reason when Reason was cut to fit. It is not
	// recorded: only the process that saw the failure can report it.
	Detail string
	// CarriedBy names the newer commit that superseded this one.
	CarriedBy string
	// Outcome is the carrier's terminal state (Deployed or Failed) once known;
	// superseded commits are reported with their carrier's outcome.
	Outcome State
	// BegunAt is when the attempt this report is of began: the commit's
	// fetchedAt in the Version, which each fresh attempt sets (a rollback
	// begins one) and a restore or a resumed rollout keeps. It tells one
	// rollout of a commit from another on the deployment sinks
	// (deployment.Again); zero when unknown.
	BegunAt     time.Time
	AppliedAt   time.Time
	FinishedAt  time.Time
	Deployments []string
	Ready       int
	Total       int
	// Origins are the application commits the config commit deploys, as
	// its Syncgate-Origin trailers name them (repo@sha).
	Origins []string
	// OvertakenBy names the newer commit whose own success the sink
	// already showed for the same cluster when this own success goes out
	// late: true of this commit, it must not take the environment from
	// the newer one (see deployment.Next).
	OvertakenBy string
	// OvertakerOrigins are the Origins of OvertakenBy: on the application
	// repos they name, its success went out before this one.
	OvertakerOrigins []string
	// Ref is what the sink the update goes to kept of the commit when it
	// last reported it, if it is a Keeper: the id of its deployment.
	Ref string
}

// Effective is the state CI should act on: a superseded commit takes the
// outcome of the commit that carried it.
func (u Update) Effective() State {
	if u.State == Superseded && u.Outcome != "" {
		return u.Outcome
	}
	return u.State
}

// Held reports a superseded commit whose carrier has no outcome yet: no
// sink reports it until the carrier's outcome is known.
func (u Update) Held() bool { return u.State == Superseded && u.Outcome == "" }

// Duration is how long the commit took from apply to its end, when known.
func (u Update) Duration() time.Duration {
	if u.AppliedAt.IsZero() || u.FinishedAt.IsZero() {
		return 0
	}
	return u.FinishedAt.Sub(u.AppliedAt)
}
