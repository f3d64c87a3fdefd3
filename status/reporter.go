package status

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Reporter tells one CI channel about a commit's transition.
type Reporter interface {
	Name() string
	Report(ctx context.Context, u Update) error
}

// permanentError marks a refusal retries cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err so the outbox stops retrying it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// retryAfterError carries the delay a sink asked for (Retry-After, rate limit reset).
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter wraps err with the delay the sink asked for.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, after: d}
}

// RetryAfterOf returns the delay a sink asked for, if any.
func RetryAfterOf(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// Description is the short text a commit status shows, at most max runes.
func Description(u Update, max int) string {
	var s string
	switch u.State {
	case Fetched, Applying:
		s = "applying"
	case RollingOut:
		s = "rolling out"
		if u.Total > 0 {
			s = fmt.Sprintf("rolling out (%d/%d ready)", u.Ready, u.Total)
		}
	case Deployed:
		s = "deployed"
		if d := u.Duration(); d > 0 {
			s = fmt.Sprintf("deployed in %s", d.Round(time.Second))
		}
	case Failed:
		s = "failed: " + u.Reason
	case Superseded:
		switch u.Outcome {
		case Deployed:
			s = fmt.Sprintf("deployed by %s", short(u.CarriedBy))
		case Failed:
			s = u.Reason
		default:
			s = "superseded by " + short(u.CarriedBy)
		}
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max-1]) + "…"
	}
	return s
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// Fanout reports to several sinks.
type Fanout struct {
	reporters []Reporter
}

// Multi reports every update to each reporter.
func Multi(rs ...Reporter) *Fanout { return &Fanout{reporters: rs} }

// Reporters are the sinks, in order.
func (f *Fanout) Reporters() []Reporter { return f.reporters }

// Names are the sinks' names.
func (f *Fanout) Names() []string {
	out := make([]string, 0, len(f.reporters))
	for _, r := range f.reporters {
		out = append(out, r.Name())
	}
	return out
}
