package githubstatus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v92/github"
	"k8s.io/utils/clock"

	"github.com/syncgate/syncgate/status"
)

// Options configure a Reporter.
type Options struct {
	Client      *github.Client
	Owner, Repo string
	// Cluster is the CLUSTER_NAME in the context; when empty, each
	// update's own Cluster is used.
	Cluster string
	// PublicURL, when set, makes each status link to <PublicURL>/status/<sha>.
	PublicURL string
	// Clock turns rate-limit reset times into delays (default real time).
	Clock clock.PassiveClock
}

// Reporter posts statuses to one repository.
type Reporter struct{ opts Options }

var _ status.Reporter = (*Reporter)(nil)

// New checks the options.
func New(opts Options) (*Reporter, error) {
	if opts.Client == nil || opts.Owner == "" || opts.Repo == "" {
		return nil, errors.New("githubstatus: client, owner and repo are required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	return &Reporter{opts: opts}, nil
}

// Name of the sink.
func (r *Reporter) Name() string { return "github" }

// Context is the status context for a namespace.
func Context(cluster, namespace string) string { return "syncgate/" + cluster + "/" + namespace }

// State is the GitHub status state for u: pending until final, then
// success or failure; a superseded commit takes its carrier's outcome.
func State(u status.Update) string {
	switch u.Effective() {
	case status.Deployed:
		return "success"
	case status.Failed:
		return "failure"
	}
	return "pending"
}

// Report posts the update unless the latest status of its context already
// has the same state and description.
func (r *Reporter) Report(ctx context.Context, u status.Update) error {
	if u.Held() {
		return nil // reported once the carrier's outcome is known
	}
	cluster, err := status.ClusterOf(r.opts.Cluster, u)
	if err != nil {
		return err
	}
	want := github.RepoStatus{
		State:       new(State(u)),
		Description: new(status.Description(u)),
		Context:     new(Context(cluster, u.Namespace)),
	}
	if r.opts.PublicURL != "" {
		want.TargetURL = new(r.opts.PublicURL + "/status/" + u.SHA)
	}
	latest, err := r.latest(ctx, u.SHA, want.GetContext())
	if err != nil {
		return r.classify(u.SHA, err)
	}
	if latest != nil && latest.GetState() == want.GetState() && latest.GetDescription() == want.GetDescription() {
		return nil
	}
	if _, _, err := r.opts.Client.Repositories.CreateStatus(ctx, r.opts.Owner, r.opts.Repo, u.SHA, want); err != nil {
		return r.classify(u.SHA, err)
	}
	return nil
}

// latest is the newest status of context on sha; GitHub lists newest first.
func (r *Reporter) latest(ctx context.Context, sha, context string) (*github.RepoStatus, error) {
	opts := &github.ListOptions{PerPage: 100}
	for page := 0; page < 10; page++ { // GitHub keeps at most 1,000 statuses per sha and context
		list, resp, err := r.opts.Client.Repositories.ListStatuses(ctx, r.opts.Owner, r.opts.Repo, sha, opts)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			if s.GetContext() == context {
				return s, nil
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return nil, nil
}

// classify turns GitHub's answers into retry advice and, for refusals no
// retry fixes, says what to fix.
func (r *Reporter) classify(sha string, err error) error {
	repo := r.opts.Owner + "/" + r.opts.Repo
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return status.RetryAfter(fmt.Errorf("github rate limit: %w", err), rl.Rate.Reset.Sub(r.opts.Clock.Now())+time.Second)
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
	switch code := er.Response.StatusCode; {
	case code == http.StatusTooManyRequests:
		return status.TooManyRequests(err, er.Response)
	case code == http.StatusUnauthorized:
		return status.Permanent(fmt.Errorf("GITHUB_TOKEN is not valid (GitHub answered 401 Bad credentials): %w", err))
	case code == http.StatusForbidden:
		return status.Permanent(fmt.Errorf("the token may not set statuses on %s: give it the repo:status scope (or Commit statuses: write): %w", repo, err))
	case code == http.StatusNotFound:
		return status.Permanent(fmt.Errorf("repository %s not found or token lacks repo:status: %w", repo, err))
	case code == http.StatusUnprocessableEntity:
		return status.Permanent(fmt.Errorf("GitHub refused the status of %s in %s (is the commit pushed there?): %w", status.ShortSHA(sha), repo, err))
	}
	return err
}
