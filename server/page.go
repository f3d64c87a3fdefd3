package server

import (
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/syncgate/syncgate/server/internal/markup"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/measures"
	"github.com/syncgate/syncgate/status/version"
)

// CommitInfo is what the status page shows of a commit besides its sha.
type CommitInfo struct {
	Subject, Author string
	// Time is the commit's time in git, where its lead time starts.
	Time time.Time
}

// CommitLog reads commits of the config repo for the status page and the
// delivery metrics.
type CommitLog interface {
	// CommitInfo returns the commit; false when the clone does not hold it.
	CommitInfo(sha string) (CommitInfo, bool)
}

// row is one commit of a namespace's timeline.
type row struct {
	SHA, Subject, Author, Link string
	Committed, CommittedAgo    string
	State, Class, Reason, Note string
	Duration, Finished, Ago    string
}

// flight is the commit a namespace is applying or rolling out.
type flight struct {
	SHA, Subject, State string
	Ready, Total        int32
	Percent             int
	For                 string
}

type nsView struct {
	Namespace, Applied, Deployed, Ready, Message string
	InFlight                                     *flight
	Timeline                                     []row
	Measures                                     measuresView
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
	var w markup.Writer
	writePage(&w, d)
	if _, err := w.WriteTo(c.Writer); err != nil {
		s.log.Debug("write page", "err", err)
	}
}

func (s *Server) nsViews(now time.Time) []nsView {
	out := make([]nsView, 0, len(s.opts.Namespaces))
	for _, ns := range s.opts.Namespaces {
		view := nsView{Namespace: ns}
		if v := s.opts.Versions.Get(ns); v != nil {
			s.fill(&view, &v.Status, now)
		} else {
			view.Measures = s.measuresView(measures.Compute(nil, now))
		}
		out = append(out, view)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	return out
}

func (s *Server) fill(view *nsView, st *version.VersionStatus, now time.Time) {
	view.Applied, view.Deployed = st.Applied, st.Deployed
	for _, c := range st.Conditions {
		if c.Type == version.ConditionReady {
			view.Ready, view.Message = string(c.Status), c.Message
		}
	}
	for _, h := range st.History {
		info, _ := s.commitInfo(h.SHA)
		r := row{SHA: h.SHA, Subject: info.Subject, Author: info.Author, Link: s.commitLink(h.SHA),
			State: string(h.State), Class: stateClass(h.State, h.Outcome), Reason: h.Reason}
		if !info.Time.IsZero() {
			r.Committed, r.CommittedAgo = info.Time.UTC().Format(time.RFC3339), ago(now, info.Time)
		}
		switch {
		case h.State == status.Superseded && h.Outcome != "":
			r.State = "superseded → " + string(h.Outcome)
			if h.CarriedBy != "" {
				r.Note = string(h.Outcome) + " with " + status.ShortSHA(h.CarriedBy) + ", which superseded it"
			}
		case h.State == status.Superseded:
			r.State = "superseded, waiting on " + status.ShortSHA(h.CarriedBy)
		}
		if h.AppliedAt != nil && h.FinishedAt != nil {
			r.Duration = status.FormatDuration(h.FinishedAt.Sub(h.AppliedAt.Time))
		}
		if t := h.FinishedAt; t != nil {
			r.Finished, r.Ago = t.UTC().Format(time.RFC3339), ago(now, t.Time)
		}
		if view.InFlight == nil && !h.State.Terminal() {
			view.InFlight = inFlight(h, info, now)
		}
		view.Timeline = append(view.Timeline, r)
	}
	view.Measures = s.measuresView(measures.Compute(s.changes(st), now))
}

// inFlight is h, the commit under way, in progress for as long as its
// clock has run by the rule its health timeout and the
// SyncgateCommitNotFinal alert count by (lifecycle.RolloutSince): since it
// was begun, applied, or rolled out again by a restore.
func inFlight(h version.Commit, info CommitInfo, now time.Time) *flight {
	f := &flight{SHA: h.SHA, Subject: info.Subject, State: string(h.State), Ready: h.Ready, Total: h.Total}
	if h.Total > 0 {
		f.Percent = int(100 * h.Ready / h.Total)
	}
	if since, ok := lifecycle.RolloutSince(&h); ok {
		f.For = status.FormatDuration(now.Sub(since).Round(time.Second))
	}
	return f
}

// changes are the namespace's recorded commits with a final outcome, for
// the delivery measures.
func (s *Server) changes(st *version.VersionStatus) []measures.Change {
	var out []measures.Change
	for _, h := range st.History {
		if h.FinishedAt == nil {
			continue
		}
		c := measures.Change{SHA: h.SHA, Finished: h.FinishedAt.Time}
		switch {
		case h.State == status.Deployed:
			c.Outcome = measures.Deployed
		case h.State == status.Failed:
			c.Outcome = measures.Failed
		case h.State == status.Superseded && h.Outcome == status.Deployed:
			c.Outcome = measures.Carried
		default:
			continue
		}
		if info, ok := s.commitInfo(h.SHA); ok {
			c.Committed = info.Time
		}
		out = append(out, c)
	}
	return out
}

func (s *Server) commitInfo(sha string) (CommitInfo, bool) {
	if s.opts.Commits == nil {
		return CommitInfo{}, false
	}
	return s.opts.Commits.CommitInfo(sha)
}

// commitLink is the commit's page on the forge, else its status page.
func (s *Server) commitLink(sha string) string {
	if s.opts.CommitURL != nil {
		return s.opts.CommitURL(sha)
	}
	return "/status/" + sha
}

func stateClass(st, outcome status.State) string {
	switch {
	case st == status.Deployed || outcome == status.Deployed:
		return "deployed"
	case st == status.Failed || outcome == status.Failed:
		return "failed"
	case st == status.Superseded:
		return "superseded"
	}
	return "progress"
}

// ago is a short relative time, as people read timelines.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return formatUnit(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return formatUnit(int(d/time.Hour), "hour") + " ago"
	}
	return formatUnit(int(d/(24*time.Hour)), "day") + " ago"
}

func formatUnit(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func (s *Server) overview(c *gin.Context) {
	s.page(c, http.StatusOK, pageData{Title: "syncgate on " + s.opts.Cluster, Namespaces: s.nsViews(time.Now())})
}

func (s *Server) commitPage(a answer) pageData {
	return pageData{Title: "Commit " + status.ShortSHA(a.SHA), Commit: &a, Namespaces: s.nsViews(time.Now())}
}
