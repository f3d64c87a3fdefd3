package previewreport

import (
	"context"
	"errors"
	"fmt"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/status/gitlabstatus"
	"github.com/syncgate/syncgate/sync/preview"
)

// Forge is where previews are reported: one of GitHub and GitLab.
type Forge struct {
	GitHub *githubstatus.Reporter
	GitLab *gitlabstatus.Reporter
}

func (f Forge) name() string {
	if f.GitLab != nil {
		return "gitlab"
	}
	return "github"
}

// Results gives a preview's result, and queues it again when it is not
// known (after a restart): *preview.Previewer.
type Results interface {
	Get(sha string) *preview.Result
	Submit(ctx context.Context, req preview.Request) (*preview.Result, error)
}

// Options configure the preview reporters.
type Options struct {
	Cluster string
	Forge   Forge
	Ledger  *Ledger
	Results Results
	// PublicURL, when set, makes statuses and comments link to
	// <PublicURL>/previews/<sha>.
	PublicURL string
}

// Reporters are the two sinks of previews on one forge: statuses and
// comments, for an outbox.Deliverer over the Ledger.
func Reporters(opts Options) ([]status.Reporter, Sinks, error) {
	if opts.Forge.GitHub == nil && opts.Forge.GitLab == nil {
		return nil, Sinks{}, nil
	}
	if opts.Ledger == nil || opts.Results == nil {
		return nil, Sinks{}, errors.New("previewreport: a ledger and results are required")
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	st := &statuses{opts: opts}
	cm := &comments{opts: opts}
	return []status.Reporter{st, cm}, Sinks{Statuses: []string{st.Name()}, Comments: []string{cm.Name()}}, nil
}

func (o Options) pageURL(sha string) string {
	if o.PublicURL == "" {
		return ""
	}
	return o.PublicURL + "/previews/" + sha
}

type statuses struct{ opts Options }

func (s *statuses) Name() string { return s.opts.Forge.name() + "-preview" }

func (s *statuses) Report(ctx context.Context, u status.Update) error {
	cluster, err := status.ClusterOf(s.opts.Cluster, u)
	if err != nil {
		return err
	}
	name, desc, target := Context(cluster, u.Namespace), Description(u.Reason), s.opts.pageURL(u.SHA)
	notPrev := strings.HasPrefix(u.Reason, notPreviewed)
	if gl := s.opts.Forge.GitLab; gl != nil {
		state := gitlab.Running
		switch u.State {
		case status.Deployed:
			state = gitlab.Success
		case status.Failed:
			state = gitlab.Failed
		}
		return gl.PostStatus(ctx, u.SHA, name, state, desc, target)
	}
	state := "pending"
	switch {
	case u.State == status.Deployed:
		state = "success"
	case u.State == status.Failed && notPrev:
		state = "error"
	case u.State == status.Failed:
		state = "failure"
	}
	return s.opts.Forge.GitHub.PostStatus(ctx, u.SHA, name, state, desc, target)
}

type comments struct{ opts Options }

func (c *comments) Name() string { return c.opts.Forge.name() + "-preview-comment" }

// errNotMade: the result a comment shows is not known here (a restart
// came between); the preview was queued again, and the comment is
// retried.
var errNotMade = errors.New("preview not made yet")

func (c *comments) Report(ctx context.Context, u status.Update) error {
	req, ok, err := c.opts.Ledger.Head(ctx, u.SHA)
	if err != nil {
		return err
	}
	if !ok || req.Number == 0 {
		return nil // nothing to comment on
	}
	res := c.opts.Results.Get(u.SHA)
	if res == nil || !res.Final() || res.SHA != u.SHA {
		if res == nil {
			if _, err := c.opts.Results.Submit(ctx, req); err != nil {
				return fmt.Errorf("%w: %v", errNotMade, err)
			}
		}
		return fmt.Errorf("%w: %s of pull request %d", errNotMade, status.ShortSHA(u.SHA), req.Number)
	}
	cluster, err := status.ClusterOf(c.opts.Cluster, u)
	if err != nil {
		return err
	}
	body := Comment(cluster, res, c.opts.pageURL(u.SHA))
	if gl := c.opts.Forge.GitLab; gl != nil {
		return gl.UpsertNote(ctx, u.SHA, req.Number, Marker(cluster), body)
	}
	return c.opts.Forge.GitHub.UpsertComment(ctx, u.SHA, req.Number, Marker(cluster), body)
}
