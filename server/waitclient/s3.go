package waitclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/s3marker"
)

// ParseS3URL splits s3://bucket/prefix.
func ParseS3URL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return "", "", fmt.Errorf("%q is not an s3://bucket/prefix URL", raw)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// WaitS3 polls the commit's _result object until it appears or the
// timeout. A setup no retry fixes (no such bucket, credentials refused, an
// object that is not a result) ends the wait at once, Unknown; a missing
// object, and any other error, is asked again, the last error told with
// the timeout.
func WaitS3(ctx context.Context, api s3marker.API, bucket, key string, timeout time.Duration, progress func(string)) (Outcome, s3marker.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	backoff := time.Second
	said, saidErr := false, false
	var last error // the last error other than a missing object
	for {
		r, err := s3marker.ReadResult(ctx, api, bucket, key)
		switch {
		case errors.Is(err, s3marker.ErrBadResult), status.IsPermanent(err):
			return Unknown, r, err
		case err == nil:
			switch r.Effective() {
			case status.Deployed:
				return Deployed, r, nil
			case status.Failed:
				return Failed, r, fmt.Errorf("%s", r.Reason)
			}
		case ctx.Err() != nil:
		case errors.Is(err, s3marker.ErrNotFound):
			last = nil
		default:
			last = err
		}
		if progress != nil && (!said || last != nil && !saidErr) {
			progress(waitingLine(bucket, key, last)) // once, and once more with the first error
			said, saidErr = true, saidErr || last != nil
		}
		select {
		case <-ctx.Done():
			return TimedOut, s3marker.Result{}, withLastError(fmt.Sprintf("timed out waiting for s3://%s/%s", bucket, key), last)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// waitingLine is the progress line while the result is not there; err is
// the last error other than a missing object, if any.
func waitingLine(bucket, key string, err error) string {
	if err != nil {
		return fmt.Sprintf("waiting for s3://%s/%s (%v)", bucket, key, err)
	}
	return fmt.Sprintf("waiting for s3://%s/%s", bucket, key)
}
