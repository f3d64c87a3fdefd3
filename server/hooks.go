package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/go-github/v92/github"

	"github.com/syncgate/syncgate/status"
)

// Push webhooks. Bodies are read as they stream in, up to MaxBodyBytes
// (25 MiB, what GitHub sends at most): the few fields used are picked out
// on the way (readPush) and GitHub's HMAC is computed over every byte, so
// a large payload costs time, not memory. A payload about another
// repository than the followed one (an organisation-wide hook sharing the
// secret) is answered 202 "ignored" and fetches nothing.

func (s *Server) hookResult(c *gin.Context, provider string, code int, result, msg string) {
	s.m.webhooks.WithLabelValues(provider, result).Inc()
	c.JSON(code, gin.H{"result": result, "message": msg})
}

func (s *Server) githubHook(c *gin.Context) {
	if s.opts.WebhookSecret == "" {
		s.hookResult(c, "github", http.StatusNotFound, "disabled", "webhooks are off (no WEBHOOK_SECRET)")
		return
	}
	// Only SHA-256: ValidatePayload would fall back to the SHA-1 X-Hub-Signature.
	want, err := hex.DecodeString(strings.TrimPrefix(c.GetHeader(github.SHA256SignatureHeader), "sha256="))
	if err != nil || len(want) != sha256.Size {
		s.hookResult(c, "github", http.StatusUnauthorized, "bad_signature", "X-Hub-Signature-256 is missing or malformed")
		return
	}
	mac := hmac.New(sha256.New, []byte(s.opts.WebhookSecret))
	body := io.TeeReader(http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes), mac)
	event := github.WebHookType(c.Request)
	var ev pushEvent
	var pr pullEvent
	var perr error
	switch event {
	case "push":
		ev, perr = s.readHookBody(c.GetHeader("Content-Type"), body)
	case "pull_request":
		pr, perr = decodePull(c.GetHeader("Content-Type"), body)
	}
	if _, err := io.Copy(io.Discard, body); err != nil || isTooLarge(perr) {
		s.bodyError(c, "github", errors.Join(perr, err))
		return
	}
	if !hmac.Equal(mac.Sum(nil), want) {
		s.hookResult(c, "github", http.StatusUnauthorized, "bad_signature", "X-Hub-Signature-256 does not match WEBHOOK_SECRET")
		return
	}
	switch event {
	case "ping":
		s.hookResult(c, "github", http.StatusOK, "pong", "ping received")
		return
	case "push":
	case "pull_request":
		s.pullRequest(c, "github", pr, perr)
		return
	default:
		s.hookResult(c, "github", http.StatusAccepted, "ignored", "only push and pull_request events act")
		return
	}
	s.push(c, "github", ev, perr)
}

func (s *Server) gitlabHook(c *gin.Context) {
	if s.opts.WebhookSecret == "" {
		s.hookResult(c, "gitlab", http.StatusNotFound, "disabled", "webhooks are off (no WEBHOOK_SECRET)")
		return
	}
	tok := c.GetHeader("X-Gitlab-Token")
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.WebhookSecret)) != 1 {
		s.hookResult(c, "gitlab", http.StatusUnauthorized, "bad_token", "X-Gitlab-Token does not match WEBHOOK_SECRET")
		return
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes)
	if ev := c.GetHeader("X-Gitlab-Event"); ev == "Merge Request Hook" {
		pr, perr := decodeMerge(body)
		if _, err := io.Copy(io.Discard, body); err != nil || isTooLarge(perr) {
			s.bodyError(c, "gitlab", errors.Join(perr, err))
			return
		}
		s.pullRequest(c, "gitlab", pr, perr)
		return
	} else if ev != "Push Hook" {
		s.hookResult(c, "gitlab", http.StatusAccepted, "ignored", "only push and merge request events act")
		return
	}
	ev, perr := readPush(body)
	if _, err := io.Copy(io.Discard, body); err != nil || isTooLarge(perr) {
		s.bodyError(c, "gitlab", errors.Join(perr, err))
		return
	}
	s.push(c, "gitlab", ev, perr)
}

// readHookBody reads a GitHub push payload (see githubPayload).
func (s *Server) readHookBody(contentType string, body io.Reader) (pushEvent, error) {
	payload, err := githubPayload(contentType, body)
	if err != nil {
		return pushEvent{}, err
	}
	return readPush(payload)
}

// githubPayload is a GitHub webhook's JSON: the body itself, read as it
// streams, or from the form encoding GitHub also offers (payload=<json>),
// which is read whole.
func githubPayload(contentType string, body io.Reader) (io.Reader, error) {
	if mt, _, _ := mime.ParseMediaType(contentType); mt != "application/x-www-form-urlencoded" {
		return body, nil
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, err
	}
	return strings.NewReader(form.Get("payload")), nil
}

func isTooLarge(err error) bool {
	var tooBig *http.MaxBytesError
	return errors.As(err, &tooBig)
}

// bodyError answers a body that could not be read: too large, or cut off.
func (s *Server) bodyError(c *gin.Context, provider string, err error) {
	if isTooLarge(err) {
		s.hookResult(c, provider, http.StatusRequestEntityTooLarge, "too_large", "payload larger than the limit")
		return
	}
	s.hookResult(c, provider, http.StatusBadRequest, "bad_payload", "the payload could not be read")
}

func (s *Server) push(c *gin.Context, provider string, ev pushEvent, perr error) {
	if perr != nil || ev.Ref == "" {
		s.hookResult(c, provider, http.StatusBadRequest, "bad_payload", "not a push event payload")
		return
	}
	if s.opts.RepoURL != "" && !ev.sameRepo(s.opts.RepoURL) {
		s.hookResult(c, provider, http.StatusAccepted, "ignored", "push to "+ev.named()+", following "+repoKey(s.opts.RepoURL))
		return
	}
	branch := strings.TrimPrefix(ev.Ref, "refs/heads/")
	if want := s.opts.Branch(); want != "" && branch != want {
		s.hookResult(c, provider, http.StatusAccepted, "ignored", "push to "+truncate(branch, 64)+", following "+want)
		return
	}
	s.opts.Nudge(ev.After)
	s.hookResult(c, provider, http.StatusAccepted, "fetching", "fetching "+status.ShortSHA(ev.After))
}
