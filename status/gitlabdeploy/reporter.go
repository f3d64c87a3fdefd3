package gitlabdeploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/deployment"
	"github.com/syncgate/syncgate/status/gitlabstatus"
)

// Options configure a Reporter.
type Options struct {
	Client *gitlab.Client
	// Project is the project's full path, group/subgroup/project.
	Project string
	// Branch is the ref deployments name: the followed branch, asked at
	// each report since it is known once the repo was first fetched
	// (default: "main").
	Branch func() string
	// Cluster is the CLUSTER_NAME the environment is named after; when
	// empty, each update's own Cluster is used.
	Cluster string
	// Naming names the environment and its external URL (default
	// <cluster>/<namespace>, no URL).
	Naming *deployment.Naming
	// Now is the agent's clock (default time.Now), which the forge's Date
	// is read against to tell when a deployment was made in its terms.
	Now func() time.Time
}

// Reporter keeps GitLab deployments of one project.
type Reporter struct {
	opts Options

	mu   sync.Mutex
	envs map[string]string // environments known to exist → their external URL
}

var _ status.Keeper = (*Reporter)(nil)

// Sink is the name of the sink in owed reports.
const Sink = "gitlab-deployments"

// maxPages bounds the deployments of one environment read to find an
// application commit's (ReportOn), which no kept id names.
const maxPages = 10

// New checks the options.
func New(opts Options) (*Reporter, error) {
	if opts.Client == nil || opts.Project == "" {
		return nil, errors.New("gitlabdeploy: client and project are required")
	}
	if opts.Naming == nil {
		n, err := deployment.NewNaming("", "")
		if err != nil {
			return nil, err
		}
		opts.Naming = n
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Reporter{opts: opts, envs: map[string]string{}}, nil
}

// Name of the sink.
func (r *Reporter) Name() string { return Sink }

var states = map[deployment.Phase]gitlab.DeploymentStatusValue{
	deployment.Queued:    gitlab.DeploymentStatusCreated,
	deployment.Running:   gitlab.DeploymentStatusRunning,
	deployment.Succeeded: gitlab.DeploymentStatusSuccess,
	deployment.Failed:    gitlab.DeploymentStatusFailed,
	deployment.Inactive:  gitlab.DeploymentStatusCanceled,
}

func phaseOf(s string) deployment.Phase {
	for p, v := range states {
		if string(v) == s {
			return p
		}
	}
	return deployment.None
}

// Report moves the deployment of u's commit on.
func (r *Reporter) Report(ctx context.Context, u status.Update) error {
	_, err := r.ReportKept(ctx, u)
	return err
}

// ReportKept moves the deployment of u's commit on and returns its id and
// the attempt it was made for (a Kept), for the commit's next report to
// name in u.Ref: GitLab cannot list deployments by commit, so one named is
// read by its id (one request), however many deployments the environment
// has had since. With none named, or one named that is not the commit's in
// this environment, the environment's newest deployments are read instead:
// one made but not yet kept (a restart between the two) is among them.
func (r *Reporter) ReportKept(ctx context.Context, u status.Update) (string, error) {
	ref := ""
	if r.opts.Branch != nil {
		ref = r.opts.Branch()
	}
	if ref == "" {
		ref = "main"
	}
	return r.report(ctx, u.SHA, ref, u, lookup{kept: ParseKept(u.Ref), pages: 1})
}

// ReportOn moves the deployment of commit sha (on ref) of the reporter's
// project (an application commit the config commit names) as u says.
func (r *Reporter) ReportOn(ctx context.Context, sha, ref string, u status.Update) error {
	_, err := r.report(ctx, sha, ref, u, lookup{pages: maxPages})
	return err
}

// lookup says how to find a commit's deployment: by the id kept, else by
// reading that many pages of the environment's deployments, newest first.
type lookup struct {
	kept  Kept
	pages int
}

// report moves the deployment of sha on as u says and returns the
// reference to keep of the commit's deployment, if it has one.
func (r *Reporter) report(ctx context.Context, sha, ref string, u status.Update, how lookup) (string, error) {
	if u.Held() {
		return "", nil // reported once the carrier's outcome is known
	}
	env, envURL, err := r.opts.Naming.Of(r.opts.Cluster, u)
	if err != nil {
		return "", err
	}
	if err := r.ensureEnvironment(ctx, env, envURL); err != nil {
		return "", r.classify(sha, err)
	}
	d, attempt, made, err := r.find(ctx, sha, env, how)
	if err != nil {
		return "", r.classify(sha, err)
	}
	if d != nil && deployment.Earlier(u, attempt) {
		// An earlier attempt's late report: the newer attempt's deployment stays as it is.
		return Kept{ID: d.ID, Attempt: attempt}.String(), nil
	}
	id, err := r.move(ctx, sha, ref, env, d, made, u)
	if err != nil {
		return "", r.classify(sha, err)
	}
	if id == 0 {
		return "", nil
	}
	if d == nil || id != d.ID || attempt.IsZero() {
		// A deployment made for u's attempt, or one u's attempt was
		// judged its own by when it was made.
		attempt = u.BegunAt
	}
	return Kept{ID: id, Attempt: attempt}.String(), nil
}

// move takes the deployment d of sha to env (nil when it has none, made
// for the attempt begun at made in the agent's clock) where u says, and
// returns the id of the commit's deployment then, 0 for none.
func (r *Reporter) move(ctx context.Context, sha, ref, env string, d *gitlab.Deployment, made time.Time, u status.Update) (int64, error) {
	now := deployment.None
	if d != nil {
		now = phaseOf(d.Status)
	}
	if d != nil && deployment.Again(u, made) {
		// A rollback: a new deployment, the one its attempt left unfinished canceled.
		if !now.Final() {
			if _, _, err := r.opts.Client.Deployments.UpdateProjectDeployment(r.opts.Project, d.ID,
				&gitlab.UpdateProjectDeploymentOptions{Status: gitlab.Ptr(states[deployment.Inactive])}, gitlab.WithContext(ctx)); err != nil {
				return 0, err
			}
		}
		d, now = nil, deployment.None
	}
	step, ok := deployment.Next(u, now, false)
	if !ok {
		if d == nil {
			return 0, nil
		}
		return d.ID, nil
	}
	want := states[step.Phase]
	// GitLab moves a deployment to running only from created: a commit
	// deployed again (a rollback) gets a new deployment, as GitLab's own
	// redeploys do.
	again := now.Final() && (step.Phase == deployment.Queued || step.Phase == deployment.Running)
	var err error
	for _, before := range deployment.Through(u, now) {
		if d == nil {
			d, _, err = r.opts.Client.Deployments.CreateProjectDeployment(r.opts.Project, &gitlab.CreateProjectDeploymentOptions{
				Environment: gitlab.Ptr(env), Ref: gitlab.Ptr(ref), SHA: gitlab.Ptr(sha), Tag: gitlab.Ptr(false), Status: gitlab.Ptr(states[before.Phase]),
			}, gitlab.WithContext(ctx))
		} else {
			_, _, err = r.opts.Client.Deployments.UpdateProjectDeployment(r.opts.Project, d.ID,
				&gitlab.UpdateProjectDeploymentOptions{Status: gitlab.Ptr(states[before.Phase])}, gitlab.WithContext(ctx))
		}
		if err != nil {
			return 0, err
		}
	}
	if d == nil || again {
		d, _, err = r.opts.Client.Deployments.CreateProjectDeployment(r.opts.Project, &gitlab.CreateProjectDeploymentOptions{
			Environment: gitlab.Ptr(env), Ref: gitlab.Ptr(ref), SHA: gitlab.Ptr(sha), Tag: gitlab.Ptr(false), Status: gitlab.Ptr(want),
		}, gitlab.WithContext(ctx))
	} else {
		_, _, err = r.opts.Client.Deployments.UpdateProjectDeployment(r.opts.Project, d.ID,
			&gitlab.UpdateProjectDeploymentOptions{Status: gitlab.Ptr(want)}, gitlab.WithContext(ctx))
	}
	if err != nil {
		return 0, err
	}
	return d.ID, nil
}

// ensureEnvironment creates env on first use, with its external URL, and
// keeps that URL as configured.
func (r *Reporter) ensureEnvironment(ctx context.Context, env, url string) error {
	r.mu.Lock()
	known, ok := r.envs[env]
	r.mu.Unlock()
	if ok && known == url {
		return nil
	}
	list, _, err := r.opts.Client.Environments.ListEnvironments(r.opts.Project,
		&gitlab.ListEnvironmentsOptions{Name: gitlab.Ptr(env)}, gitlab.WithContext(ctx))
	if err != nil {
		return err
	}
	var found *gitlab.Environment
	for _, e := range list {
		if e.Name == env {
			found = e
		}
	}
	switch {
	case found == nil:
		opt := &gitlab.CreateEnvironmentOptions{Name: gitlab.Ptr(env)}
		if url != "" {
			opt.ExternalURL = gitlab.Ptr(url)
		}
		_, _, err = r.opts.Client.Environments.CreateEnvironment(r.opts.Project, opt, gitlab.WithContext(ctx))
		if taken(err) {
			err = nil // made meanwhile; its URL is set next time
		}
	case url != "" && found.ExternalURL != url:
		_, _, err = r.opts.Client.Environments.EditEnvironment(r.opts.Project, found.ID,
			&gitlab.EditEnvironmentOptions{ExternalURL: gitlab.Ptr(url)}, gitlab.WithContext(ctx))
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.envs[env] = url
	r.mu.Unlock()
	return nil
}

func taken(err error) bool {
	var er *gitlab.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusBadRequest &&
		strings.Contains(er.Message, "has already been taken")
}

// find is the newest deployment of sha to env: the one kept, when it is
// that, else the newest of sha among how.pages pages of the environment's
// deployments read newest first (GitLab cannot filter them by sha). It
// also says the begin of the attempt it was made for, when the reference
// kept names it (zero otherwise), and when it was made in the agent's
// clock: that attempt's begin or, with none named, its created_at moved by
// how far the agent's clock is from the forge's as the answer's Date tells
// (GitLab's deployments have no room for the attempt they were made for).
func (r *Reporter) find(ctx context.Context, sha, env string, how lookup) (d *gitlab.Deployment, attempt, made time.Time, err error) {
	if how.kept.ID > 0 {
		kept, resp, err := r.opts.Client.Deployments.GetProjectDeployment(r.opts.Project, how.kept.ID, gitlab.WithContext(ctx))
		switch {
		case err == nil && kept.SHA == sha && kept.Environment != nil && kept.Environment.Name == env:
			if !how.kept.Attempt.IsZero() {
				return kept, how.kept.Attempt, how.kept.Attempt, nil
			}
			return kept, time.Time{}, r.made(kept, resp), nil
		case err != nil && !errors.Is(err, gitlab.ErrNotFound): // a deployment deleted
			return nil, time.Time{}, time.Time{}, err
		}
	}
	opt := &gitlab.ListProjectDeploymentsOptions{Environment: gitlab.Ptr(env), OrderBy: gitlab.Ptr("id"), Sort: gitlab.Ptr("desc"),
		ListOptions: gitlab.ListOptions{PerPage: 100}}
	for range how.pages {
		list, resp, err := r.opts.Client.Deployments.ListProjectDeployments(r.opts.Project, opt, gitlab.WithContext(ctx))
		if err != nil {
			return nil, time.Time{}, time.Time{}, err
		}
		for _, d := range list {
			if d.SHA == sha {
				return d, time.Time{}, r.made(d, resp), nil
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	return nil, time.Time{}, time.Time{}, nil
}

// made is when d was created in the agent's clock (deployment.Created),
// resp being the answer that listed it.
func (r *Reporter) made(d *gitlab.Deployment, resp *gitlab.Response) time.Time {
	if d.CreatedAt == nil {
		return time.Time{}
	}
	date := ""
	if resp != nil && resp.Response != nil {
		date = resp.Header.Get("Date")
	}
	return deployment.Created(*d.CreatedAt, date, r.opts.Now())
}

// classify says what to fix when GitLab refuses a deployment for good.
func (r *Reporter) classify(sha string, err error) error {
	return gitlabstatus.Classify(err, func(code int) string {
		switch code {
		case http.StatusForbidden:
			return fmt.Sprintf("GITLAB_TOKEN may not create deployments on %s: it needs the api scope and Developer role", r.opts.Project)
		case http.StatusNotFound:
			return fmt.Sprintf("project %s or commit %s not found, or GITLAB_TOKEN cannot see it", r.opts.Project, status.ShortSHA(sha))
		}
		return fmt.Sprintf("GitLab refused the deployment of %s on %s", status.ShortSHA(sha), r.opts.Project)
	})
}

// Denied reports whether err is GitLab saying the token may not make
// deployments or environments on the project: 403 (a role below
// Developer, a token without the api scope, a protected environment the
// token may not deploy to).
func Denied(err error) bool {
	var er *gitlab.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden
}
