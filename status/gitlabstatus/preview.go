package gitlabstatus

import (
	"context"
	"errors"
	"net/http"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// PostStatus sets a status of any name on sha, unless GitLab already
// shows that state for it. Errors are classified as Report's are.
func (r *Reporter) PostStatus(ctx context.Context, sha, name string, state gitlab.BuildStateValue, description, targetURL string) error {
	current, err := r.current(ctx, sha, name)
	if err != nil {
		return r.classify(sha, err)
	}
	if current == string(state) {
		return nil
	}
	opt := &gitlab.SetCommitStatusOptions{State: state, Name: gitlab.Ptr(name), Description: gitlab.Ptr(description)}
	if targetURL != "" {
		opt.TargetURL = gitlab.Ptr(targetURL)
	}
	_, _, err = r.opts.Client.Commits.SetCommitStatus(r.opts.Project, sha, opt, gitlab.WithContext(ctx))
	var er *gitlab.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusBadRequest &&
		strings.Contains(er.Message, "Cannot transition status") {
		if now, rerr := r.current(ctx, sha, name); rerr == nil && now == string(state) {
			return nil
		}
	}
	if err != nil {
		return r.classify(sha, err)
	}
	return nil
}

// maxNotePages bounds the pages of a merge request's notes read to find
// the one carrying a marker.
const maxNotePages = 30

// UpsertNote keeps one note carrying marker on merge request iid: the
// first such note is edited to body (unless it already says it), and one
// is created when there is none.
func (r *Reporter) UpsertNote(ctx context.Context, sha string, iid int, marker, body string) error {
	opts := &gitlab.ListMergeRequestNotesOptions{ListOptions: gitlab.ListOptions{PerPage: 100}}
	for page := 0; page < maxNotePages; page++ {
		list, resp, err := r.opts.Client.Notes.ListMergeRequestNotes(r.opts.Project, int64(iid), opts, gitlab.WithContext(ctx))
		if err != nil {
			return r.classify(sha, err)
		}
		for _, n := range list {
			if n.System || !strings.Contains(n.Body, marker) {
				continue
			}
			if n.Body == body {
				return nil
			}
			_, _, err := r.opts.Client.Notes.UpdateMergeRequestNote(r.opts.Project, int64(iid), n.ID,
				&gitlab.UpdateMergeRequestNoteOptions{Body: gitlab.Ptr(body)}, gitlab.WithContext(ctx))
			if err != nil {
				return r.classify(sha, err)
			}
			return nil
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = int64(resp.NextPage)
	}
	_, _, err := r.opts.Client.Notes.CreateMergeRequestNote(r.opts.Project, int64(iid),
		&gitlab.CreateMergeRequestNoteOptions{Body: gitlab.Ptr(body)}, gitlab.WithContext(ctx))
	if err != nil {
		return r.classify(sha, err)
	}
	return nil
}
