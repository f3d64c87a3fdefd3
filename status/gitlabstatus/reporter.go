package gitlabstatus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/syncgate/syncgate/status"
)

// Options configure a Reporter.
type Options struct {
	Client *gitlab.Client
	// Project is the project's full path, group/subgroup/project.
	Project string
	// Cluster is the CLUSTER_NAME in the status name; when empty, each
	// update's own Cluster is used.
	Cluster string
	// PublicURL, when set, makes each status link to <PublicURL>/status/<sha>.
	PublicURL string
}

// Reporter sets statuses on one project.
type Reporter struct{ opts Options }

var _ status.Reporter = (*Reporter)(nil)

// New checks the options.
func New(opts Options) (*Reporter, error) {
	if opts.Client == nil || opts.Project == "" {
		return nil, errors.New("gitlabstatus: client and project are required")
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	return &Reporter{opts: opts}, nil
}

// NewClient builds a client for gitlab.com or the self-managed instance at
// baseURL (GITLAB_URL; /api/v4 is added when missing). The client does not
// retry: the outbox does, honouring Retry-After.
func NewClient(baseURL, token string) (*gitlab.Client, error) {
	if token == "" {
		return nil, errors.New("gitlabstatus: GITLAB_TOKEN is empty")
	}
	opts := []gitlab.ClientOptionFunc{gitlab.WithoutRetries(), gitlab.WithHTTPClient(&http.Client{Timeout: 30 * time.Second})}
	if baseURL != "" {
		opts = append(opts, gitlab.WithBaseURL(baseURL))
	}
	c, err := gitlab.NewClient(token, opts...)
	if err != nil {
		return nil, fmt.Errorf("gitlabstatus: %w", err)
	}
	return c, nil
}

// Name of the sink.
func (r *Reporter) Name() string { return "gitlab" }

// State is the GitLab state for u; a superseded commit takes its carrier's
// outcome.
func State(u status.Update) gitlab.BuildStateValue {
	switch u.Effective() {
	case status.Deployed:
		return gitlab.Success
	case status.Failed:
		return gitlab.Failed
	case status.RollingOut:
		return gitlab.Running
	}
	return gitlab.Pending
}

// Report sets the status unless GitLab already shows that state; GitLab
// keeps one status per name in a state, so a newer description of the same
// state (2/3 ready after 1/3) is not sent.
func (r *Reporter) Report(ctx context.Context, u status.Update) error {
	return r.ReportOn(ctx, u.SHA, u)
}

// ReportOn sets the status of u on commit sha of the reporter's project (an
// application commit the config commit names), linking to u's page.
func (r *Reporter) ReportOn(ctx context.Context, sha string, u status.Update) error {
	if u.Held() {
		return nil // reported once the carrier's outcome is known
	}
	cluster, err := status.ClusterOf(r.opts.Cluster, u)
	if err != nil {
		return err
	}
	name := status.Context(cluster, u.Namespace)
	want := State(u)
	current, err := r.current(ctx, sha, name)
	if err != nil {
		return r.classify(sha, err)
	}
	if current == string(want) {
		return nil
	}
	opt := &gitlab.SetCommitStatusOptions{State: want, Name: gitlab.Ptr(name), Description: gitlab.Ptr(status.Description(u))}
	if r.opts.PublicURL != "" {
		opt.TargetURL = gitlab.Ptr(r.opts.PublicURL + "/status/" + u.SHA)
	}
	_, _, err = r.opts.Client.Commits.SetCommitStatus(r.opts.Project, sha, opt, gitlab.WithContext(ctx))
	if err == nil {
		return nil
	}
	var er *gitlab.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusBadRequest &&
		strings.Contains(er.Message, "Cannot transition status") {
		// Another writer may have set the same state since we looked.
		now, rerr := r.current(ctx, sha, name)
		if rerr == nil && now == string(want) {
			return nil
		}
		return status.Permanent(fmt.Errorf("GitLab will not move %s of %s from %q to %q: %w", name, status.ShortSHA(sha), now, want, err))
	}
	return r.classify(sha, err)
}

// current is the state of the latest status named name on sha, or "".
func (r *Reporter) current(ctx context.Context, sha, name string) (string, error) {
	list, _, err := r.opts.Client.Commits.GetCommitStatuses(r.opts.Project, sha,
		&gitlab.GetCommitStatusesOptions{Name: gitlab.Ptr(name), ListOptions: gitlab.ListOptions{PerPage: 100}},
		gitlab.WithContext(ctx))
	if err != nil {
		return "", err
	}
	var latest *gitlab.CommitStatus
	for _, s := range list {
		if s.Name != name {
			continue
		}
		if latest == nil || s.ID > latest.ID {
			latest = s
		}
	}
	if latest == nil {
		return "", nil
	}
	return latest.Status, nil
}

// classify says what to fix when GitLab refuses a status for good.
func (r *Reporter) classify(sha string, err error) error {
	return Classify(err, func(code int) string {
		switch code {
		case http.StatusNotFound:
			return fmt.Sprintf("project %s or commit %s not found, or GITLAB_TOKEN cannot see it", r.opts.Project, status.ShortSHA(sha))
		case http.StatusForbidden:
			return fmt.Sprintf("GITLAB_TOKEN may not set statuses on %s: it needs the api scope and Developer role", r.opts.Project)
		}
		return fmt.Sprintf("GitLab refused the status of %s on %s", status.ShortSHA(sha), r.opts.Project)
	})
}

// Classify turns a GitLab answer into retry advice for the outbox, the one
// home of that rule for every GitLab sink: 429 and any answer with
// Retry-After are retried when GitLab says, network trouble, 408, 409 and
// 5xx with backoff; a bad token and
// any other 4xx are refusals reported once, worded by refusal (given the
// HTTP status) to say what to fix.
func Classify(err error, refusal func(code int) string) error {
	if errors.Is(err, gitlab.ErrNotFound) {
		return status.Permanent(fmt.Errorf("%s: %w", refusal(http.StatusNotFound), err))
	}
	var er *gitlab.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return err // network trouble: retry
	}
	if throttled, ok := status.Throttled(err, er.Response); ok {
		return throttled // a 429 or 503 that says when to come back
	}
	switch code := er.Response.StatusCode; {
	case code == http.StatusTooManyRequests:
		return status.TooManyRequests(err, er.Response)
	case code == http.StatusUnauthorized:
		return status.Permanent(fmt.Errorf("GITLAB_TOKEN is not valid (GitLab answered 401): %w", err))
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusConflict:
		return status.Permanent(fmt.Errorf("%s: %w", refusal(code), err))
	}
	return err
}
