package status

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Reporter tells one CI channel about a commit's transition. Report must be
// idempotent: the outbox may deliver the same Update again after a crash.
type Reporter interface {
	// Name identifies the sink in owed reports, logs and metrics.
	Name() string
	Report(ctx context.Context, u Update) error
}

// Fanout reports every update to several sinks.
type Fanout struct {
	reporters []Reporter
}

var _ Reporter = (*Fanout)(nil)

// Multi reports every update to each of rs, in order; nil reporters are
// left out so callers can pass optional sinks directly.
func Multi(rs ...Reporter) *Fanout {
	f := &Fanout{}
	for _, r := range rs {
		if r != nil {
			f.reporters = append(f.reporters, r)
		}
	}
	return f
}

// Reporters are the sinks, in order.
func (f *Fanout) Reporters() []Reporter { return append([]Reporter(nil), f.reporters...) }

// Names are the sinks' names, in order.
func (f *Fanout) Names() []string {
	out := make([]string, 0, len(f.reporters))
	for _, r := range f.reporters {
		out = append(out, r.Name())
	}
	return out
}

// Name joins the sinks' names.
func (f *Fanout) Name() string { return strings.Join(f.Names(), "+") }

// Report tells every sink, even after one fails, and joins the failures,
// each prefixed with its sink's name. The joined error is Permanent only
// when every failure is, and carries the longest RetryAfter asked for.
func (f *Fanout) Report(ctx context.Context, u Update) error {
	var errs []error
	permanent := true
	var after time.Duration
	for _, r := range f.reporters {
		err := r.Report(ctx, u)
		if err == nil {
			continue
		}
		errs = append(errs, fmt.Errorf("%s: %w", r.Name(), err))
		permanent = permanent && IsPermanent(err)
		if d, ok := RetryAfterOf(err); ok && d > after {
			after = d
		}
	}
	if len(errs) == 0 {
		return nil
	}
	joined := &joinedError{errs: errs}
	switch {
	case permanent:
		return Permanent(joined)
	case after > 0:
		return RetryAfter(joined, after)
	}
	return joined
}

// joinedError joins sink failures without letting errors.As find a single
// sink's Permanent or RetryAfter mark, which would misstate the whole.
type joinedError struct{ errs []error }

func (e *joinedError) Error() string {
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Is lets errors.Is look through to each sink's error.
func (e *joinedError) Is(target error) bool {
	for _, err := range e.errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
