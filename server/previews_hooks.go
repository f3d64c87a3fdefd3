package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/sync/preview"
)

// Pull and merge request webhooks: GitHub's pull_request (opened,
// synchronize, reopened) and GitLab's Merge Request Hook (open, reopen,
// update) queue a preview of the head, signed as push webhooks are. Only
// requests into the followed branch of the followed repository count; a
// request from a fork is refused, with a status saying so, unless
// PREVIEW_FORKS is on.

// pullEvent is the part of a pull or merge request payload used here.
type pullEvent struct {
	Action string
	Number int
	URL    string
	Head   string // sha
	Base   string // target branch
	Fork   bool
	Repo   pushEvent // the base repository, as push payloads name it
}

type ghPull struct {
	Action      string     `json:"action"`
	Number      int        `json:"number"`
	Repository  repoFields `json:"repository"`
	PullRequest struct {
		HTMLURL string `json:"html_url"`
		Head    struct {
			SHA  string `json:"sha"`
			Repo *struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"head"`
		Base struct {
			Ref  string `json:"ref"`
			Repo struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"base"`
	} `json:"pull_request"`
}

type glMerge struct {
	ObjectKind string     `json:"object_kind"`
	Project    repoFields `json:"project"`
	Attrs      struct {
		IID             int    `json:"iid"`
		Action          string `json:"action"`
		URL             string `json:"url"`
		TargetBranch    string `json:"target_branch"`
		SourceProjectID int64  `json:"source_project_id"`
		TargetProjectID int64  `json:"target_project_id"`
		LastCommit      struct {
			ID string `json:"id"`
		} `json:"last_commit"`
	} `json:"object_attributes"`
}

func decodePull(contentType string, body io.Reader) (pullEvent, error) {
	payload, err := githubPayload(contentType, body)
	if err != nil {
		return pullEvent{}, err
	}
	var p ghPull
	if err := json.NewDecoder(payload).Decode(&p); err != nil {
		return pullEvent{}, err
	}
	ev := pullEvent{Action: p.Action, Number: p.Number, URL: p.PullRequest.HTMLURL, Head: p.PullRequest.Head.SHA, Base: p.PullRequest.Base.Ref}
	head := p.PullRequest.Head.Repo
	// A head repository that is gone (a deleted fork) is a fork too.
	ev.Fork = head == nil || !strings.EqualFold(head.FullName, p.PullRequest.Base.Repo.FullName)
	ev.Repo.add(p.Repository)
	return ev, nil
}

func decodeMerge(body io.Reader) (pullEvent, error) {
	var m glMerge
	if err := json.NewDecoder(body).Decode(&m); err != nil {
		return pullEvent{}, err
	}
	if m.ObjectKind != "merge_request" {
		return pullEvent{}, errors.New("not a merge request payload")
	}
	ev := pullEvent{Action: m.Attrs.Action, Number: m.Attrs.IID, URL: m.Attrs.URL, Head: m.Attrs.LastCommit.ID, Base: m.Attrs.TargetBranch,
		Fork: m.Attrs.SourceProjectID != m.Attrs.TargetProjectID}
	ev.Repo.add(m.Project)
	return ev, nil
}

// previewActions are the actions that bring a new head to preview.
var previewActions = map[string]map[string]bool{
	"github": {"opened": true, "synchronize": true, "reopened": true},
	"gitlab": {"open": true, "reopen": true, "update": true},
}

func (s *Server) pullRequest(c *gin.Context, provider string, ev pullEvent, perr error) {
	if perr != nil || ev.Number <= 0 || !isSHA(ev.Head) {
		s.hookResult(c, provider, http.StatusBadRequest, "bad_payload", "not a pull or merge request payload")
		return
	}
	if !previewActions[provider][ev.Action] {
		s.hookResult(c, provider, http.StatusAccepted, "ignored", "action "+truncate(ev.Action, 32)+" brings no new head")
		return
	}
	if s.opts.Previews == nil {
		s.hookResult(c, provider, http.StatusAccepted, "ignored", "previews are off")
		return
	}
	if s.opts.RepoURL != "" && !ev.Repo.sameRepo(s.opts.RepoURL) {
		s.hookResult(c, provider, http.StatusAccepted, "ignored", "pull request on "+ev.Repo.named()+", following "+repoKey(s.opts.RepoURL))
		return
	}
	if want := s.opts.Branch(); want != "" && ev.Base != want {
		s.hookResult(c, provider, http.StatusAccepted, "ignored", "pull request into "+truncate(ev.Base, 64)+", following "+want)
		return
	}
	req := preview.Request{SHA: strings.ToLower(ev.Head), Provider: provider, Number: ev.Number, URL: ev.URL}
	if provider == "gitlab" {
		req.Ref = "refs/merge-requests/" + strconv.Itoa(ev.Number) + "/head"
	} else {
		req.Ref = "refs/pull/" + strconv.Itoa(ev.Number) + "/head"
	}
	if ev.Fork && !s.opts.PreviewForks {
		req.Refused = "pull request from a fork: its content is not previewed (PREVIEW_FORKS=true allows it)"
	}
	res, err := s.opts.Previews.Submit(c.Request.Context(), req)
	switch {
	case errors.Is(err, preview.ErrBusy):
		c.Header("Retry-After", "30")
		s.hookResult(c, provider, http.StatusServiceUnavailable, "busy", "too many previews waiting; redeliver later")
		return
	case err != nil:
		s.log.Warn("cannot queue a preview", "sha", req.SHA, "err", err)
		s.hookResult(c, provider, http.StatusServiceUnavailable, "unavailable", "the preview could not be queued; redeliver later")
		return
	}
	if req.Refused != "" {
		s.hookResult(c, provider, http.StatusAccepted, "refused", req.Refused)
		return
	}
	s.hookResult(c, provider, http.StatusAccepted, "previewing", res.State+": preview of "+status.ShortSHA(req.SHA))
}

func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, r := range strings.ToLower(s) {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
