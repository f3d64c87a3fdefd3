package status

import "context"

// Reporter tells one CI channel about a commit's transition. Report must be
// idempotent: the outbox may deliver the same Update again after a crash.
type Reporter interface {
	// Name identifies the sink in owed reports, logs and metrics.
	Name() string
	Report(ctx context.Context, u Update) error
}

// Live is a sink whose reports say which commit is live in the
// namespace's environment (deployments), not only what became of each
// commit (commit statuses, S3 results): there, an older commit's own success
// posted after a newer one's as it is would take the environment from the
// newer one, so the outbox posts it marked overtaken (Update.OvertakenBy)
// and the sink leaves the environment to the newer commit.
type Live interface {
	ShowsLive() bool
}

// ShowsLive reports whether r's reports say which commit is live.
func ShowsLive(r Reporter) bool {
	l, ok := r.(Live)
	return ok && l.ShowsLive()
}
