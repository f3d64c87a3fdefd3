package server

import (
	"embed"
	"html/template"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"short": status.ShortSHA,
}).ParseFS(templateFS, "templates/*.html"))

type row struct {
	SHA, State, Reason, Duration, When string
}

type nsView struct {
	Namespace, Applied, Deployed, Ready, Message string
	Timeline                                     []row
}

type pageData struct {
	Title      string
	Cluster    string
	Error      string
	Commit     *answer
	Namespaces []nsView
}

func (s *Server) page(c *gin.Context, code int, d pageData) {
	d.Cluster = s.opts.Cluster
	c.Status(code)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(c.Writer, "page.html", d); err != nil {
		s.log.Warn("render page", "err", err)
	}
}

func (s *Server) nsViews() []nsView {
	var out []nsView
	for _, ns := range s.opts.Namespaces {
		v := s.opts.Versions.Get(ns)
		view := nsView{Namespace: ns}
		if v != nil {
			view.Applied, view.Deployed = v.Status.Applied, v.Status.Deployed
			for _, c := range v.Status.Conditions {
				if c.Type == version.ConditionReady {
					view.Ready, view.Message = string(c.Status), c.Message
				}
			}
			for _, h := range v.Status.History {
				r := row{SHA: h.SHA, State: string(h.State), Reason: h.Reason}
				if h.Outcome != "" {
					r.State += " → " + string(h.Outcome)
				}
				if h.AppliedAt != nil && h.FinishedAt != nil {
					r.Duration = h.FinishedAt.Sub(h.AppliedAt.Time).Round(time.Second).String()
				}
				if t := h.FinishedAt; t != nil {
					r.When = t.UTC().Format(time.RFC3339)
				} else if t := h.FetchedAt; t != nil {
					r.When = t.UTC().Format(time.RFC3339)
				}
				view.Timeline = append(view.Timeline, r)
			}
		}
		out = append(out, view)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	return out
}

func (s *Server) overview(c *gin.Context) {
	s.page(c, http.StatusOK, pageData{Title: "syncgate on " + s.opts.Cluster, Namespaces: s.nsViews()})
}

func (s *Server) commitPage(a answer) pageData {
	return pageData{Title: "Commit " + status.ShortSHA(a.SHA), Commit: &a, Namespaces: s.nsViews()}
}
