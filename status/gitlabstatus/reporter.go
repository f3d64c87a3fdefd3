package gitlabstatus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/syncgate/syncgate/status"
)

// Options configure a Reporter.
type Options struct {
	Client    *gitlab.Client
	Project   string // group/subgroup/project
	PublicURL string
}

// Reporter sets statuses on one project.
type Reporter struct{ opts Options }

// New checks the options.
func New(opts Options) (*Reporter, error) {
	if opts.Client == nil || opts.Project == "" {
		return nil, errors.New("gitlabstatus: client and project are required")
	}
	return &Reporter{opts: opts}, nil
}

// NewClient builds a client for gitlab.com or baseURL; retries are left to
// the outbox, which honours Retry-After.
func NewClient(baseURL, token string) (*gitlab.Client, error) {
	opts := []gitlab.ClientOptionFunc{gitlab.WithoutRetries()}
	if baseURL != "" {
		opts = append(opts, gitlab.WithBaseURL(baseURL))
	}
	return gitlab.NewClient(token, opts...)
}

var scpLike = regexp.MustCompile(`^[^@/]+@[^:/]+:(.+)$`)

// ProjectPath is the project's full path in a repo URL (https, ssh, scp-like).
func ProjectPath(repoURL string) (string, error) {
	var p string
	if m := scpLike.FindStringSubmatch(repoURL); m != nil {
		p = m[1]
	} else {
		u, err := url.Parse(repoURL)
		if err != nil || u.Path == "" {
			return "", fmt.Errorf("cannot find a project path in %q", repoURL)
		}
		p = u.Path
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	if !strings.Contains(p, "/") {
		return "", fmt.Errorf("cannot find a project path in %q", repoURL)
	}
	return p, nil
}

// Name of the sink.
func (r *Reporter) Name() string { return "gitlab" }

func stateOf(u status.Update) gitlab.BuildStateValue {
	switch u.Effective() {
	case status.Deployed:
		return gitlab.Success
	case status.Failed:
		return gitlab.Failed
	case status.RollingOut:
		return gitlab.Running
	case status.Superseded:
		return gitlab.Running
	}
	return gitlab.Pending
}

// Report sets the status unless GitLab already shows that state.
func (r *Reporter) Report(ctx context.Context, u status.Update) error {
	if u.State == status.Superseded && u.Outcome == "" {
		return nil
	}
	name := "syncgate/" + u.Cluster + "/" + u.Namespace
	state := stateOf(u)
	current, _, err := r.opts.Client.Commits.GetCommitStatuses(r.opts.Project, u.SHA, &gitlab.GetCommitStatusesOptions{Name: &name}, gitlab.WithContext(ctx))
	if err != nil {
		return r.classify(err)
	}
	for _, s := range current { // newest first
		if s.Name == name {
			if s.Status == string(state) {
				return nil
			}
			break
		}
	}
	opt := &gitlab.SetCommitStatusOptions{State: state, Name: &name, Description: gitlab.Ptr(status.Description(u, 255))}
	if r.opts.PublicURL != "" {
		opt.TargetURL = gitlab.Ptr(strings.TrimRight(r.opts.PublicURL, "/") + "/status/" + u.SHA)
	}
	_, _, err = r.opts.Client.Commits.SetCommitStatus(r.opts.Project, u.SHA, opt, gitlab.WithContext(ctx))
	if err != nil {
		return r.classify(err)
	}
	return nil
}

func (r *Reporter) classify(err error) error {
	var er *gitlab.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return err
	}
	switch code := er.Response.StatusCode; {
	case code == http.StatusTooManyRequests:
		d := time.Minute
		if s, e := strconv.Atoi(er.Response.Header.Get("Retry-After")); e == nil && s > 0 {
			d = time.Duration(s) * time.Second
		}
		return status.RetryAfter(err, d)
	case code == http.StatusUnauthorized:
		return status.Permanent(fmt.Errorf("GitLab refused GITLAB_TOKEN: %w", err))
	case code == http.StatusForbidden, code == http.StatusNotFound:
		return status.Permanent(fmt.Errorf("project %s not found, or the token lacks the api scope: %w", r.opts.Project, err))
	case code == http.StatusBadRequest && strings.Contains(er.Message, "Cannot transition status"):
		return nil // GitLab already holds this state
	case code >= 400 && code < 500:
		return status.Permanent(err)
	}
	return err
}
