package server

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/go-github/v92/github"

	"github.com/syncgate/syncgate/status"
)

// pushEvent is the part of GitHub's and GitLab's push payloads used here.
type pushEvent struct {
	Ref   string `json:"ref"`
	After string `json:"after"`
}

func (s *Server) hookResult(c *gin.Context, provider string, code int, result, msg string) {
	s.m.webhooks.WithLabelValues(provider, result).Inc()
	c.JSON(code, gin.H{"result": result, "message": msg})
}

func (s *Server) githubHook(c *gin.Context) {
	if s.opts.WebhookSecret == "" {
		s.hookResult(c, "github", http.StatusNotFound, "disabled", "webhooks are off (no WEBHOOK_SECRET)")
		return
	}
	if c.GetHeader(github.SHA256SignatureHeader) == "" {
		// ValidatePayload would fall back to the SHA-1 X-Hub-Signature.
		s.hookResult(c, "github", http.StatusUnauthorized, "bad_signature", "X-Hub-Signature-256 is missing")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes)
	payload, err := github.ValidatePayload(c.Request, []byte(s.opts.WebhookSecret))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.hookResult(c, "github", http.StatusRequestEntityTooLarge, "too_large", "payload larger than the limit")
			return
		}
		s.hookResult(c, "github", http.StatusUnauthorized, "bad_signature", "X-Hub-Signature-256 does not match WEBHOOK_SECRET")
		return
	}
	switch github.WebHookType(c.Request) {
	case "ping":
		s.hookResult(c, "github", http.StatusOK, "pong", "ping received")
		return
	case "push":
	default:
		s.hookResult(c, "github", http.StatusAccepted, "ignored", "only push events act")
		return
	}
	s.push(c, "github", payload)
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
	payload, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes))
	if err != nil {
		s.hookResult(c, "gitlab", http.StatusRequestEntityTooLarge, "too_large", "payload larger than the limit")
		return
	}
	if ev := c.GetHeader("X-Gitlab-Event"); ev != "Push Hook" {
		s.hookResult(c, "gitlab", http.StatusAccepted, "ignored", "only push events act")
		return
	}
	s.push(c, "gitlab", payload)
}

func (s *Server) push(c *gin.Context, provider string, payload []byte) {
	var ev pushEvent
	if err := json.Unmarshal(payload, &ev); err != nil || ev.Ref == "" {
		s.hookResult(c, provider, http.StatusBadRequest, "bad_payload", "not a push event payload")
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
