package status

import "context"

// Reporter tells one CI channel about a commit's transition. Report must be
// idempotent: the outbox may deliver the same Update again after a crash.
type Reporter interface {
	// Name identifies the sink in owed reports, logs and metrics.
	Name() string
	Report(ctx context.Context, u Update) error
}

// Keeper is a Reporter that keeps a reference to what it made of a commit
// (the id of the commit's deployment), so that its next report of the
// commit finds that again without searching the forge. The outbox keeps
// the reference with the commit's record and hands it back in Update.Ref.
type Keeper interface {
	Reporter
	// ReportKept is Report returning the reference to keep ("" keeps the
	// one held).
	ReportKept(ctx context.Context, u Update) (string, error)
}
