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

// WaitS3 polls the commit's _result object until it appears or the timeout.
func WaitS3(ctx context.Context, api s3marker.API, bucket, key string, timeout time.Duration, progress func(string)) (Outcome, s3marker.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	backoff := time.Second
	said := false
	for {
		r, err := s3marker.ReadResult(ctx, api, bucket, key)
		if errors.Is(err, s3marker.ErrBadResult) {
			return Unknown, r, err
		}
		if err == nil {
			switch r.Effective() {
			case status.Deployed:
				return Deployed, r, nil
			case status.Failed:
				return Failed, r, fmt.Errorf("%s", r.Reason)
			}
		} else if progress != nil && !said {
			progress(fmt.Sprintf("waiting for s3://%s/%s", bucket, key))
			said = true
		}
		select {
		case <-ctx.Done():
			return TimedOut, s3marker.Result{}, fmt.Errorf("timed out waiting for s3://%s/%s", bucket, key)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}
