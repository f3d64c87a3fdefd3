package githubstatus

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v92/github"
	"k8s.io/utils/clock"

	"github.com/syncgate/syncgate/status"
)

// Options configure a Reporter: a repository and what every GitHub sink
// needs to report to it (githubdeploy's Options start from them).
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
	if err := opts.Check("githubstatus"); err != nil {
		return nil, err
	}
	return &Reporter{opts: opts}, nil
}

// Check refuses options without a client, owner or repo, naming the sink
// that was given them, and fills in the defaults: the real clock, and
// PublicURL without a trailing slash.
func (o *Options) Check(sink string) error {
	if o.Client == nil || o.Owner == "" || o.Repo == "" {
		return fmt.Errorf("%s: client, owner and repo are required", sink)
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	return nil
}

// Page is the link to the status page of config commit sha, or nil
// without PublicURL.
func (o Options) Page(sha string) *string {
	if o.PublicURL == "" {
		return nil
	}
	return new(o.PublicURL + "/status/" + sha)
}

// Classify is the package's Classify for the options' repository, now.
func (o Options) Classify(err error, refusal func(code int) string) error {
	return Classify(err, o.Clock.Now(), o.Owner+"/"+o.Repo, refusal)
}

// Name of the sink.
func (r *Reporter) Name() string { return "github" }

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

// Report posts the update on its commit unless the latest status of its
// context already has the same state and description.
func (r *Reporter) Report(ctx context.Context, u status.Update) error {
	return r.ReportOn(ctx, u.SHA, u)
}

// ReportOn posts the status of u on commit sha of the reporter's repository
// (an application commit the config commit names), linking to u's page.
func (r *Reporter) ReportOn(ctx context.Context, sha string, u status.Update) error {
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
		Context:     new(status.Context(cluster, u.Namespace)),
	}
	want.TargetURL = r.opts.Page(u.SHA)
	latest, err := r.latest(ctx, sha, want.GetContext())
	if err != nil {
		return r.classify(sha, err)
	}
	if latest != nil && latest.GetState() == want.GetState() && latest.GetDescription() == want.GetDescription() {
		return nil
	}
	if _, _, err := r.opts.Client.Repositories.CreateStatus(ctx, r.opts.Owner, r.opts.Repo, sha, want); err != nil {
		return r.classify(sha, err)
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

// classify says what to fix when GitHub refuses a status for good.
func (r *Reporter) classify(sha string, err error) error {
	repo := r.opts.Owner + "/" + r.opts.Repo
	return r.opts.Classify(err, func(code int) string {
		switch code {
		case http.StatusForbidden:
			return fmt.Sprintf("the token may not set statuses on %s: give it the repo:status scope (or Commit statuses: write)", repo)
		case http.StatusNotFound:
			return fmt.Sprintf("repository %s not found or token lacks repo:status", repo)
		case http.StatusUnprocessableEntity:
			return fmt.Sprintf("GitHub refused the status of %s in %s (is the commit pushed there?)", status.ShortSHA(sha), repo)
		}
		return ""
	})
}
