package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Live updates of the status page, as server-sent events: after each
// Version change (at most pageEventEvery) and every pageRefresh, each
// namespace section whose HTML changed is sent whole ("namespace" events,
// {"ns": name, "html": section}), and the page swaps it in. A stream ends
// after pageStreamFor (EventSource reconnects on its own) or at shutdown.
const (
	pageEventEvery = 250 * time.Millisecond
	pageRefresh    = 5 * time.Second
	pageStreamFor  = 5 * time.Minute
)

type sectionEvent struct {
	NS   string `json:"ns"`
	HTML string `json:"html"`
}

func (s *Server) events(c *gin.Context) {
	w := c.Writer
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // proxies must not hold events back
	c.Status(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	w.Flush()

	ctx := c.Request.Context()
	streamFor := min(pageStreamFor, s.opts.MaxWaitTimeout)
	end := time.NewTimer(streamFor)
	defer end.Stop()
	refresh := time.NewTicker(pageRefresh)
	defer refresh.Stop()
	sent := map[string]string{}
	for {
		changed := s.opts.Versions.Changed() // before rendering: no change is missed
		for _, v := range s.nsViews(time.Now()) {
			html := section(v)
			if sent[v.Namespace] == html {
				continue
			}
			b, _ := json.Marshal(sectionEvent{NS: v.Namespace, HTML: html})
			if _, err := fmt.Fprintf(w, "event: namespace\ndata: %s\n\n", b); err != nil {
				return
			}
			sent[v.Namespace] = html
		}
		w.Flush()
		select {
		case <-changed:
		case <-refresh.C:
		case <-ctx.Done():
			return
		case <-s.shutdown:
			return
		case <-end.C:
			return
		}
		pace := time.NewTimer(pageEventEvery) // a rollout changes its Version many times a second
		select {
		case <-pace.C:
		case <-ctx.Done():
			pace.Stop()
			return
		case <-s.shutdown:
			pace.Stop()
			return
		}
	}
}
