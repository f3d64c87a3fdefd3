package status

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// permanentError marks a refusal retries cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a refusal no retry can fix (bad credentials, an
// unknown repository or bucket): the outbox reports it once and stops.
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// retryAfterError carries the delay a sink asked for.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter marks err as transient with the delay the sink asked for (a
// Retry-After header, a rate limit's reset). RetryAfter(nil, d) is nil; a
// negative d counts as zero.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, after: max(d, 0)}
}

// TooManyRequests marks a 429 answer as transient, with the delay its
// Retry-After header asks for, else a minute.
func TooManyRequests(err error, resp *http.Response) error {
	if throttled, ok := Throttled(err, resp); ok {
		return throttled
	}
	return RetryAfter(err, time.Minute)
}

// Throttled marks err as transient with the delay resp's Retry-After
// header asks for (seconds, or an HTTP date), and reports whether it had
// one: a server that says when to come back (429, 503, GitHub's secondary
// rate limits on 403) is not refusing for good, whatever the status code.
func Throttled(err error, resp *http.Response) (error, bool) {
	if resp == nil {
		return err, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if secs, e := strconv.Atoi(v); e == nil && secs >= 0 {
		return RetryAfter(err, time.Duration(secs)*time.Second), true
	}
	if at, e := http.ParseTime(v); e == nil {
		return RetryAfter(err, time.Until(at)), true
	}
	return err, false
}

// RetryAfterOf returns the delay a sink asked for, if err carries one.
func RetryAfterOf(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// ClusterOf is the cluster a sink's report names: the one the sink was
// configured with, else the update's. Neither is a permanent error.
func ClusterOf(configured string, u Update) (string, error) {
	if configured != "" {
		return configured, nil
	}
	if u.Cluster != "" {
		return u.Cluster, nil
	}
	return "", Permanent(errors.New("no cluster name for the report: set CLUSTER_NAME"))
}
