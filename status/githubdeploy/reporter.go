package githubdeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-github/v92/github"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/deployment"
	"github.com/syncgate/syncgate/status/githubstatus"
)

// Options configure a Reporter.
type Options struct {
	// Options are the repository and what every GitHub sink needs; the
	// environment is named after Cluster (when empty, each update's own),
	// and PublicURL makes each status's log_url <PublicURL>/status/<sha>.
	githubstatus.Options
	// Naming names the environment and its URL (default <cluster>/<namespace>, no URL).
	Naming *deployment.Naming
	// Transient creates deployments with transient_environment set.
	Transient bool
}

// Reporter keeps GitHub deployments of one repository.
type Reporter struct{ opts Options }

var _ status.Reporter = (*Reporter)(nil)

// Sink is the name of the sink in owed reports.
const Sink = "github-deployments"

// New checks the options.
func New(opts Options) (*Reporter, error) {
	if err := opts.Check("githubdeploy"); err != nil {
		return nil, err
	}
	if opts.Naming == nil {
		n, err := deployment.NewNaming("", "")
		if err != nil {
			return nil, err
		}
		opts.Naming = n
	}
	return &Reporter{opts: opts}, nil
}

// Name of the sink.
func (r *Reporter) Name() string { return Sink }

// States are GitHub's deployment states for each phase.
var states = map[deployment.Phase]string{
	deployment.Queued:    "queued",
	deployment.Running:   "in_progress",
	deployment.Succeeded: "success",
	deployment.Failed:    "failure",
	deployment.Inactive:  "inactive",
}

func phaseOf(state string) deployment.Phase {
	for p, s := range states {
		if s == state {
			return p
		}
	}
	if state == "pending" {
		return deployment.Queued
	}
	if state == "error" {
		return deployment.Failed
	}
	return deployment.None
}

// Report moves the deployment of u's commit on.
func (r *Reporter) Report(ctx context.Context, u status.Update) error {
	return r.ReportOn(ctx, u.SHA, u)
}

// ReportOn moves the deployment of commit sha of the reporter's repository
// (an application commit the config commit names) as u says, linking to
// u's page.
func (r *Reporter) ReportOn(ctx context.Context, sha string, u status.Update) error {
	if u.Held() {
		return nil // reported once the carrier's outcome is known
	}
	env, envURL, err := r.opts.Naming.Of(r.opts.Cluster, u)
	if err != nil {
		return err
	}
	d, now, attempt, made, err := r.find(ctx, sha, env)
	if err != nil {
		return r.classify(sha, err)
	}
	if d != nil && deployment.Earlier(u, attempt) {
		return nil // an earlier attempt's late report: the newer attempt's deployment stays as it is
	}
	if d != nil && deployment.Again(u, made) {
		// A rollback: a new deployment, the one its attempt left unfinished
		// ended, one whose first status never posted included.
		if !now.Final() {
			abandoned := deployment.Step{Phase: deployment.Inactive, Description: deployment.BegunAgain, Carried: true}
			if err := r.post(ctx, d.GetID(), env, envURL, abandoned, u); err != nil {
				return r.classify(sha, err)
			}
		}
		d, now = nil, deployment.None
	}
	step, ok := deployment.Next(u, now, true)
	if !ok {
		return nil
	}
	if d == nil {
		if d, err = r.create(ctx, sha, env, u.BegunAt); err != nil {
			return r.classify(sha, err)
		}
	}
	for _, before := range deployment.Through(u, now) {
		if err := r.post(ctx, d.GetID(), env, envURL, before, u); err != nil {
			return r.classify(sha, err)
		}
	}
	if err := r.post(ctx, d.GetID(), env, envURL, step, u); err != nil {
		return r.classify(sha, err)
	}
	if step.Retire {
		retire := deployment.Step{Phase: deployment.Inactive, Description: deployment.Retired(u), Carried: true}
		if err := r.post(ctx, d.GetID(), env, envURL, retire, u); err != nil {
			return r.classify(sha, err)
		}
	}
	return nil
}

func (r *Reporter) post(ctx context.Context, id int64, env, envURL string, step deployment.Step, u status.Update) error {
	req := github.DeploymentStatusRequest{
		State:        states[step.Phase],
		Description:  new(step.Description),
		Environment:  new(env),
		AutoInactive: new(!step.Carried),
	}
	req.LogURL = r.opts.Page(u.SHA)
	if envURL != "" {
		req.EnvironmentURL = new(envURL)
	}
	_, _, err := r.opts.Client.Repositories.CreateDeploymentStatus(ctx, r.opts.Owner, r.opts.Repo, id, req)
	return err
}

// find is the newest deployment of sha to env made by syncgate's task,
// with the phase its newest status shows, the begin of the attempt its
// payload names (zero when it names none), and when it was made in the
// agent's clock: that attempt's begin, or, on a deployment made before
// syncgate wrote it there, when it was created.
func (r *Reporter) find(ctx context.Context, sha, env string) (*github.Deployment, deployment.Phase, time.Time, time.Time, error) {
	list, resp, err := r.opts.Client.Repositories.ListDeployments(ctx, r.opts.Owner, r.opts.Repo,
		&github.DeploymentsListOptions{SHA: sha, Environment: env, Task: task, ListOptions: github.ListOptions{PerPage: 1}})
	if err != nil || len(list) == 0 {
		return nil, deployment.None, time.Time{}, time.Time{}, err
	}
	d := list[0]
	var p payload
	_ = json.Unmarshal(d.Payload, &p) // not syncgate's: it says nothing
	attempt := p.Syncgate.BegunAt
	made := attempt
	if made.IsZero() && resp != nil && resp.Response != nil {
		made = deployment.Created(d.GetCreatedAt().Time, resp.Header.Get("Date"), r.opts.Clock.Now())
	}
	statuses, _, err := r.opts.Client.Repositories.ListDeploymentStatuses(ctx, r.opts.Owner, r.opts.Repo, d.GetID(), &github.ListOptions{PerPage: 100})
	if err != nil {
		return nil, deployment.None, time.Time{}, time.Time{}, err
	}
	var latest *github.DeploymentStatus
	for _, s := range statuses {
		if latest == nil || s.GetID() > latest.GetID() {
			latest = s
		}
	}
	if latest == nil {
		return d, deployment.None, attempt, made, nil
	}
	return d, phaseOf(latest.GetState()), attempt, made, nil
}

// payload is what syncgate's deployments carry in their payload: the
// begin of the attempt each was made for, in the agent's clock, so a
// report of a later attempt (a rollback) is told from one of that attempt
// without comparing the agent's clock with GitHub's (deployment.Again).
type payload struct {
	Syncgate struct {
		BegunAt time.Time `json:"begun_at"`
	} `json:"syncgate"`
}

// task is the deployment task syncgate's deployments carry.
const task = "deploy"

func (r *Reporter) create(ctx context.Context, sha, env string, begun time.Time) (*github.Deployment, error) {
	req := github.DeploymentRequest{
		Ref:                  sha,
		Task:                 new(task),
		AutoMerge:            new(false),
		RequiredContexts:     []string{}, // syncgate's own statuses are pending while it deploys
		Environment:          new(env),
		Description:          new("syncgate " + status.ShortSHA(sha) + " to " + env),
		TransientEnvironment: new(r.opts.Transient),
	}
	if !begun.IsZero() {
		var p payload
		p.Syncgate.BegunAt = begun.UTC().Truncate(time.Second)
		req.Payload = p
	}
	d, _, err := r.opts.Client.Repositories.CreateDeployment(ctx, r.opts.Owner, r.opts.Repo, req)
	return d, err
}

// classify says what to fix when GitHub refuses a deployment for good.
func (r *Reporter) classify(sha string, err error) error {
	repo := r.opts.Owner + "/" + r.opts.Repo
	return r.opts.Classify(err, func(code int) string {
		switch code {
		case http.StatusForbidden:
			return fmt.Sprintf("the token may not create deployments on %s: give it the repo_deployment scope (or Deployments: write)", repo)
		case http.StatusNotFound:
			return fmt.Sprintf("repository %s not found or token lacks repo_deployment", repo)
		case http.StatusUnprocessableEntity:
			return fmt.Sprintf("GitHub refused the deployment of %s in %s (is the commit pushed there?)", status.ShortSHA(sha), repo)
		}
		return ""
	})
}

// Denied reports whether err is GitHub saying the credentials may not make
// deployments on the repository: 403 (a fine-grained token or GitHub App
// without Deployments: write, "Resource not accessible by ...") or 404 (a
// classic token without the repo or repo_deployment scope). Rate limits
// answered with 403 are not refusals.
func Denied(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return false
	}
	code := er.Response.StatusCode
	return code == http.StatusForbidden || code == http.StatusNotFound
}
