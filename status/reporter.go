package status

import "context"

// Reporter tells one CI channel about a commit's transition. Report must be
// idempotent: the outbox may deliver the same Update again after a crash.
type Reporter interface {
	// Name identifies the sink in owed reports, logs and metrics.
	Name() string
	Report(ctx context.Context, u Update) error
}
