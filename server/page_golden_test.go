package server

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/preview"
)

var update = flag.Bool("update", false, "rewrite the golden pages in testdata/pages")

// goldenNow is the fixed time the golden pages are drawn at.
var goldenNow = time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)

// hostileCommits is a commit log whose messages, authors and forge links
// carry markup, quotes, ampersands and script URLs.
func hostileCommits(now time.Time) commitLog {
	log := commitLog{}
	_, fixture := pageFixture(now)
	for k, v := range fixture {
		log[k] = v
	}
	log[sha('c')] = CommitInfo{Subject: `<script>alert(1)</script> & "quoted" 'single' a+b`, Author: "Tom & Jerry", Time: now.Add(-39 * time.Minute)}
	return log
}

func goldenServer(t *testing.T, commitURL func(string) string) (*Server, *memVersions) {
	t.Helper()
	st, _ := pageFixture(goldenNow)
	st.History[1].Reason = `web: "quoted" reason with 'single' <b>markup</b> & more`
	s, vs, _ := newTestServer(t, func(o *Options) {
		o.Commits = hostileCommits(goldenNow)
		o.CommitURL = commitURL
	})
	vs.set("web", st) // "api" has no Version: the empty timeline
	return s, vs
}

func forgeLink(sha string) string { return "https://git.example.com/team/config/commit/" + sha }

// oddLinks is a forge whose links need normalizing, and one that is a
// script.
func oddLinks(commit string) string {
	switch commit {
	case sha('a'):
		return "javascript:alert(1)"
	case sha('b'):
		return `https://git.example.com/a b/"q"/é?x=1&y=<2>#f`
	}
	return "/relative/" + commit
}

func renderPage(t *testing.T, s *Server, d pageData) string {
	t.Helper()
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	s.page(c, http.StatusOK, d)
	return rec.Body.String()
}

func renderPreview(t *testing.T, s *Server, res *preview.Result, msg string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	s.previewPage(c, http.StatusOK, res, msg)
	return rec.Body.String()
}

func goldenPreview() *preview.Result {
	deploy := apply.ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "web", Name: "web"}
	return &preview.Result{
		Cluster: "prod", SHA: sha('e'), Provider: "gitlab", Number: 12, URL: "https://git.example.com/team/config/-/merge_requests/12",
		State: preview.Refused, Reason: `api: "no" <permission> & more`,
		Against:  map[string]string{"web": sha('c')},
		Started:  goldenNow.Add(-time.Minute),
		Finished: goldenNow,
		Namespaces: []*preview.Namespace{
			{Namespace: "web", State: preview.Valid, Plan: &apply.Plan{
				Created: []apply.ObjectChange{{Object: apply.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "new<cm>"},
					Fields: []apply.FieldChange{{Path: "data.key", Op: "add", To: `"<value>" & 'more'`}},
					Note:   "kind defined by the same commit & not checked"}},
				Changed: []apply.ObjectChange{{Object: deploy, Fields: []apply.FieldChange{
					{Path: "spec.replicas", Op: "replace", From: "2", To: "4"},
					{Path: "spec.template.metadata.labels.tier", Op: "remove", From: "<front>"},
				}}, {Object: apply.ObjectRef{Version: "v1", Kind: "Secret", Namespace: "web", Name: "creds"}, Fields: []apply.FieldChange{
					{Path: "data.password", Op: "replace", From: "x", To: "y", Hidden: true},
				}}},
				Pruned:    []apply.ObjectRef{{Version: "v1", Kind: "Service", Namespace: "web", Name: "old"}},
				Kept:      []apply.KeptObject{{Object: apply.ObjectRef{Version: "v1", Kind: "PersistentVolumeClaim", Namespace: "web", Name: "data"}, Reason: "adopted: <not ours>"}},
				Unchanged: 7,
			}},
			{Namespace: "api", State: preview.Refused, Reason: "refused", Refusals: []preview.Refusal{
				{File: "api/role.yaml", Object: "ClusterRole admin", Message: `cluster-scoped "ClusterRole" is not allowed`},
				{Message: "no file, no object & a message"},
			}},
		},
	}
}

// TestGoldenPages draws the status and preview pages in representative
// states, hostile values included, and compares them byte for byte with
// testdata/pages (go test -run TestGoldenPages -update rewrites them).
func TestGoldenPages(t *testing.T) {
	s, _ := goldenServer(t, forgeLink)
	odd, _ := goldenServer(t, oddLinks)
	commit := answer{SHA: sha('d'), State: "failed", Reason: `web: "crash" <loop> & more`, Cluster: "prod",
		Namespaces: map[string]lifecycle.Verdict{
			"web": {State: "failed", Reason: `pod "web-1" <crash>`, Ready: 1, Total: 4},
			"api": {State: "pending"},
		}}
	running := goldenPreview()
	running.State, running.Provider, running.Reason, running.Finished = preview.Running, "github", "", time.Time{}
	running.Namespaces = nil
	for name, got := range map[string]func() string{
		"overview.html": func() string {
			return renderPage(t, s, pageData{Title: "syncgate on prod", Namespaces: s.nsViews(goldenNow)})
		},
		"commit.html": func() string {
			return renderPage(t, s, pageData{Title: "Commit " + status.ShortSHA(commit.SHA), Commit: &commit, Namespaces: s.nsViews(goldenNow)})
		},
		"odd-links.html": func() string {
			return renderPage(t, odd, pageData{Title: "syncgate on prod", Namespaces: odd.nsViews(goldenNow)})
		},
		"error.html": func() string {
			return renderPage(t, s, pageData{Title: "Commit <x>", Error: `no commit "<x>" & none like it`})
		},
		"section-web.html": func() string {
			return section(s.nsViews(goldenNow)[1])
		},
		"section-api.html": func() string {
			return section(s.nsViews(goldenNow)[0])
		},
		"preview.html":         func() string { return renderPreview(t, s, goldenPreview(), "") },
		"preview-running.html": func() string { return renderPreview(t, s, running, "") },
		"preview-error.html":   func() string { return renderPreview(t, s, nil, `no preview of "<x>" & none queued`) },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "pages", name)
			out := got()
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(want), out)
		})
	}
}
