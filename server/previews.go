package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/syncgate/syncgate/sync/preview"
)

// Previews queues previews and keeps their results (*preview.Previewer).
type Previews interface {
	Submit(ctx context.Context, req preview.Request) (*preview.Result, error)
	Get(sha string) *preview.Result
}

func (s *Server) previewRoutes(r gin.IRoutes) {
	r.POST("/api/v1/previews", s.previewRequest)
	r.GET("/previews/:sha", s.previewResult)
}

// previewBody is POST /api/v1/previews: a ref (refs/pull/12/head) or a
// full sha.
type previewBody struct {
	Ref string `json:"ref"`
	SHA string `json:"sha"`
}

func (s *Server) previewRequest(c *gin.Context) {
	if s.opts.Previews == nil {
		c.JSON(http.StatusNotFound, gin.H{"error": "previews are off"})
		return
	}
	var b previewBody
	dec := json.NewDecoder(io.LimitReader(c.Request.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": "body must be JSON {\"ref\": \"refs/...\"} or {\"sha\": \"<40 hex>\"}: " + truncate(err.Error(), 200)})
		return
	}
	b.Ref, b.SHA = strings.TrimSpace(b.Ref), strings.ToLower(strings.TrimSpace(b.SHA))
	switch {
	case b.Ref == "" && b.SHA == "":
		c.JSON(http.StatusBadRequest, gin.H{"error": "give a ref or a sha"})
		return
	case b.SHA != "" && !isSHA(b.SHA):
		c.JSON(http.StatusBadRequest, gin.H{"error": "sha must be 40 hex digits"})
		return
	case b.Ref != "" && !strings.HasPrefix(b.Ref, "refs/"):
		c.JSON(http.StatusBadRequest, gin.H{"error": "ref must start with refs/ (refs/pull/12/head, refs/merge-requests/7/head, refs/heads/topic)"})
		return
	}
	req := preview.Request{SHA: b.SHA}
	if b.Ref != "" {
		req = preview.RequestOfRef(b.Ref)
		req.SHA = b.SHA
	}
	res, err := s.opts.Previews.Submit(c.Request.Context(), req)
	switch {
	case errors.Is(err, preview.ErrBusy):
		c.Header("Retry-After", "30")
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "too many previews waiting; retry later"})
		return
	case errors.Is(err, preview.ErrNotFound):
		c.JSON(http.StatusNotFound, gin.H{"error": truncate(err.Error(), 400)})
		return
	case errors.Is(err, preview.ErrBadRequest):
		c.JSON(http.StatusBadRequest, gin.H{"error": truncate(err.Error(), 400)})
		return
	case err != nil:
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": truncate(err.Error(), 400)})
		return
	}
	c.Header("Location", "/previews/"+res.SHA)
	c.JSON(http.StatusAccepted, res)
}

func (s *Server) previewResult(c *gin.Context) {
	sha := strings.ToLower(c.Param("sha"))
	var res *preview.Result
	if s.opts.Previews != nil {
		res = s.opts.Previews.Get(sha)
	}
	html := wantsHTML(c.Request)
	if res == nil {
		msg := "no preview of " + truncate(sha, 40) + " is known here"
		if html {
			s.previewPage(c, http.StatusNotFound, nil, msg)
			return
		}
		c.JSON(http.StatusNotFound, gin.H{"error": msg})
		return
	}
	if html {
		s.previewPage(c, http.StatusOK, res, "")
		return
	}
	c.JSON(http.StatusOK, res)
}

// wantsHTML: a browser asks for text/html before JSON.
func wantsHTML(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	h, j := strings.Index(accept, "text/html"), strings.Index(accept, "application/json")
	return h >= 0 && (j < 0 || h < j)
}
