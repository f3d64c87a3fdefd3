package githubstatus

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v92/github"

	"github.com/syncgate/syncgate/status"
)

// Classify turns a GitHub answer into retry advice for the outbox, the one
// home of that rule for every GitHub sink: rate limits (primary, secondary,
// 429) and any answer with Retry-After (a 503) are retried when GitHub
// says, network trouble and other 5xx with backoff;
// bad credentials, and the 403, 404 and 422 answers refusal words (it
// returns what to fix, or "" to retry), are refusals reported once. now is
// the time the reset of a primary rate limit is measured from.
func Classify(err error, now time.Time, repo string, refusal func(code int) string) error {
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return status.RetryAfter(fmt.Errorf("github rate limit: %w", err), rl.Rate.Reset.Sub(now)+time.Second)
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		d := abuse.GetRetryAfter()
		if d <= 0 {
			d = time.Minute // GitHub asks for at least a minute when it says nothing
		}
		return status.RetryAfter(fmt.Errorf("github secondary rate limit: %w", err), d)
	}
	var app *ghinstallation.HTTPError
	if errors.As(err, &app) && app.Response != nil {
		switch app.Response.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			return status.Permanent(fmt.Errorf("the GitHub App id, installation id or private key is not valid, or the App is not installed on %s: %w", repo, err))
		}
		if app.Response.StatusCode >= 500 {
			return err
		}
	}
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return err // network trouble: retry
	}
	if throttled, ok := status.Throttled(err, er.Response); ok {
		return throttled // a 503, or a secondary limit go-github did not recognise
	}
	switch code := er.Response.StatusCode; code {
	case http.StatusTooManyRequests:
		return status.TooManyRequests(err, er.Response)
	case http.StatusUnauthorized:
		return status.Permanent(fmt.Errorf("GITHUB_TOKEN is not valid (GitHub answered 401 Bad credentials): %w", err))
	case http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity:
		if msg := refusal(code); msg != "" {
			return status.Permanent(fmt.Errorf("%s: %w", msg, err))
		}
	}
	return err
}
