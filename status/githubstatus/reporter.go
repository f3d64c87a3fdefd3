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

	"github.com/syncgate/syncgate/status"
)

// Options configure a Reporter.
type Options struct {
	Client      *github.Client
	Owner, Repo string
	// PublicURL, when set, makes each status link to <PublicURL>/status/<sha>.
	PublicURL string
}

// Reporter posts statuses to one repository.
type Reporter struct{ opts Options }

// New checks the options.
func New(opts Options) (*Reporter, error) {
	if opts.Client == nil || opts.Owner == "" || opts.Repo == "" {
		return nil, errors.New("githubstatus: client, owner and repo are required")
	}
	return &Reporter{opts: opts}, nil
}

// NewClient builds a client for a token or a GitHub App installation, on
// github.com or the API root given (used as given, e.g. https://ghe/api/v3/).
func NewClient(apiURL, token string, appID, installationID int64, keyFile string) (*github.Client, error) {
	var opts []github.ClientOptionsFunc
	switch {
	case appID != 0:
		tr, err := ghinstallation.NewKeyFromFile(http.DefaultTransport, appID, installationID, keyFile)
		if err != nil {
			return nil, fmt.Errorf("github app: %w", err)
		}
		if apiURL != "" {
			tr.BaseURL = strings.TrimRight(apiURL, "/")
		}
		opts = append(opts, github.WithTransport(tr))
	case token != "":
		opts = append(opts, github.WithAuthToken(token))
	default:
		return nil, errors.New("githubstatus: a token or a GitHub App is required")
	}
	if apiURL != "" {
		u := strings.TrimRight(apiURL, "/") + "/"
		opts = append(opts, github.WithURLs(&u, &u))
	}
	return github.NewClient(opts...)
}

// Name of the sink.
func (r *Reporter) Name() string { return "github" }

// Context is the status context for a namespace.
func Context(cluster, namespace string) string { return "syncgate/" + cluster + "/" + namespace }

func stateOf(u status.Update) string {
	switch u.Effective() {
	case status.Deployed:
		return "success"
	case status.Failed:
		return "failure"
	}
	return "pending"
}

// Report posts the update unless GitHub already shows it.
func (r *Reporter) Report(ctx context.Context, u status.Update) error {
	if u.State == status.Superseded && u.Outcome == "" {
		return nil // reported once the carrier's outcome is known
	}
	want := github.RepoStatus{
		State:       new(stateOf(u)),
		Description: new(status.Description(u, 140)),
		Context:     new(Context(u.Cluster, u.Namespace)),
	}
	if r.opts.PublicURL != "" {
		want.TargetURL = new(strings.TrimRight(r.opts.PublicURL, "/") + "/status/" + u.SHA)
	}
	existing, _, err := r.opts.Client.Repositories.ListStatuses(ctx, r.opts.Owner, r.opts.Repo, u.SHA, &github.ListOptions{PerPage: 100})
	if err != nil {
		return r.classify(err)
	}
	for _, s := range existing { // newest first
		if s.GetContext() != want.GetContext() {
			continue
		}
		if s.GetState() == want.GetState() && s.GetDescription() == want.GetDescription() {
			return nil
		}
		break
	}
	_, _, err = r.opts.Client.Repositories.CreateStatus(ctx, r.opts.Owner, r.opts.Repo, u.SHA, want)
	if err != nil {
		return r.classify(err)
	}
	return nil
}

// classify turns GitHub's answers into retry advice.
func (r *Reporter) classify(err error) error {
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return status.RetryAfter(err, time.Until(rl.Rate.Reset.Time)+time.Second)
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		return status.RetryAfter(err, abuse.GetRetryAfter())
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		repo := r.opts.Owner + "/" + r.opts.Repo
		switch code := er.Response.StatusCode; {
		case code == http.StatusTooManyRequests:
			return status.RetryAfter(err, retryAfter(er.Response))
		case code == http.StatusUnauthorized:
			return status.Permanent(fmt.Errorf("GitHub refused the credentials (GITHUB_TOKEN or the App key is not valid): %w", err))
		case code == http.StatusForbidden, code == http.StatusNotFound:
			return status.Permanent(fmt.Errorf("repository %s not found, or the token lacks the repo:status permission: %w", repo, err))
		case code == http.StatusUnprocessableEntity:
			return status.Permanent(fmt.Errorf("GitHub refused the status for %s: %w", repo, err))
		}
	}
	return err
}

func retryAfter(resp *http.Response) time.Duration {
	var secs int
	if _, err := fmt.Sscan(resp.Header.Get("Retry-After"), &secs); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	return time.Minute
}
