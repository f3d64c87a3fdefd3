package githubstatus

import (
	"context"
	"strings"

	"github.com/google/go-github/v92/github"
)

// PostStatus sets a status of any context on sha, unless the latest of
// that context already has the same state and description. Errors are
// classified as Report's are (retry advice, permanent refusals).
func (r *Reporter) PostStatus(ctx context.Context, sha, context, state, description, targetURL string) error {
	want := github.RepoStatus{State: new(state), Description: new(description), Context: new(context)}
	if targetURL != "" {
		want.TargetURL = new(targetURL)
	}
	latest, err := r.latest(ctx, sha, context)
	if err != nil {
		return r.classify(sha, err)
	}
	if latest != nil && latest.GetState() == state && latest.GetDescription() == description {
		return nil
	}
	if _, _, err := r.opts.Client.Repositories.CreateStatus(ctx, r.opts.Owner, r.opts.Repo, sha, want); err != nil {
		return r.classify(sha, err)
	}
	return nil
}

// maxCommentPages bounds the pages of a pull request's comments read to
// find the one carrying a marker.
const maxCommentPages = 30

// UpsertComment keeps one comment carrying marker on pull request number:
// the first such comment is edited to body (unless it already says it),
// and one is created when there is none. body must contain marker, so the
// comment is found again.
func (r *Reporter) UpsertComment(ctx context.Context, sha string, number int, marker, body string) error {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for page := 0; page < maxCommentPages; page++ {
		list, resp, err := r.opts.Client.Issues.ListComments(ctx, r.opts.Owner, r.opts.Repo, number, opts)
		if err != nil {
			return r.classify(sha, err)
		}
		for _, c := range list {
			if !strings.Contains(c.GetBody(), marker) {
				continue
			}
			if c.GetBody() == body {
				return nil
			}
			if _, _, err := r.opts.Client.Issues.UpdateComment(ctx, r.opts.Owner, r.opts.Repo, c.GetID(), github.IssueCommentRequest{Body: body}); err != nil {
				return r.classify(sha, err)
			}
			return nil
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if _, _, err := r.opts.Client.Issues.CreateComment(ctx, r.opts.Owner, r.opts.Repo, number, github.IssueCommentRequest{Body: body}); err != nil {
		return r.classify(sha, err)
	}
	return nil
}
