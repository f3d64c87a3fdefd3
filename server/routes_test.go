package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status/version"
)

// TestWrongPathsAndMethodsAreToldInJSON: on either listener, a path no
// route serves is 404 and a method the path is not served with is 405
// with Allow, both with a JSON reason like every other error.
func TestWrongPathsAndMethodsAreToldInJSON(t *testing.T) {
	s, _, _ := newTestServer(t, func(o *Options) { o.WaitToken = "t0ken" })
	for _, tc := range []struct {
		listener     string
		h            http.Handler
		method, path string
		code         int
		allow        string
	}{
		{"main", s.engine, http.MethodPost, "/wait/abcdef1", http.StatusMethodNotAllowed, "GET"},
		{"main", s.engine, http.MethodDelete, "/api/v1/versions", http.StatusMethodNotAllowed, "GET"},
		{"main", s.engine, http.MethodGet, "/hooks/github", http.StatusMethodNotAllowed, "POST"},
		{"main", s.engine, http.MethodPut, "/hooks/gitlab", http.StatusMethodNotAllowed, "POST"},
		{"main", s.engine, http.MethodPost, "/healthz", http.StatusMethodNotAllowed, "GET"},
		{"main", s.engine, http.MethodGet, "/no/such/thing", http.StatusNotFound, ""},
		{"main", s.engine, http.MethodPost, "/no/such/thing", http.StatusNotFound, ""},
		{"probes", s.probes, http.MethodGet, "/wait/abcdef1", http.StatusNotFound, ""},
		{"probes", s.probes, http.MethodGet, "/", http.StatusNotFound, ""},
		{"probes", s.probes, http.MethodPost, "/healthz", http.StatusMethodNotAllowed, "GET"},
		{"probes", s.probes, http.MethodDelete, "/metrics", http.StatusMethodNotAllowed, "GET"},
	} {
		t.Run(tc.listener+" "+tc.method+" "+tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			require.Equal(t, tc.code, rec.Code, rec.Body.String())
			require.Equal(t, tc.allow, rec.Header().Get("Allow"))
			require.Contains(t, rec.Header().Get("Content-Type"), "application/json")
			var body struct{ State, Error string }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
			require.Equal(t, "error", body.State)
			require.Contains(t, body.Error, tc.path)
			if tc.allow != "" {
				require.Contains(t, body.Error, tc.method)
				require.Contains(t, body.Error, tc.allow)
			}
		})
	}
}

// TestEveryWaitAnswerNamesTheCluster: the answers that are no verdict (a
// bad request, before the first sync, a sha not found or not known yet)
// name the cluster as verdicts do.
func TestEveryWaitAnswerNamesTheCluster(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		notReady   bool
		fetch      string // "fails", "hangs" (until the test ends); "" works
		wait, stat int    // codes on /wait and /status
	}{
		{name: "malformed sha", path: "/xyz", wait: 400, stat: 400},
		{name: "unmanaged namespace", path: "/" + sha('c') + "?namespace=nope", wait: 400, stat: 400},
		{name: "bad timeout", path: "/" + sha('c') + "?timeout=soon", wait: 400, stat: 200},
		{name: "not synced yet", path: "/" + sha('c'), notReady: true, wait: 503, stat: 503},
		{name: "not on the branch", path: "/" + sha('f') + "?timeout=1s", wait: 404, stat: 404},
		{name: "fetch failed", path: "/" + sha('f') + "?timeout=1s", fetch: "fails", wait: 503, stat: 503},
		{name: "fetch under way", path: "/" + sha('f') + "?timeout=0", fetch: "hangs", wait: 408, stat: 202},
		{name: "deployed", path: "/" + sha('c'), wait: 200, stat: 200},
	} {
		for _, route := range []string{"/wait", "/status"} {
			t.Run(tc.name+" "+route, func(t *testing.T) {
				s, vs, repo := newTestServer(t, func(o *Options) {
					o.Cluster = "local"
					o.Ready = func() bool { return !tc.notReady }
				})
				switch tc.fetch {
				case "fails":
					repo.fetch = func(context.Context) error { return errors.New("connection refused") }
				case "hangs":
					s.fetches.grace = 0
					ended := make(chan struct{})
					t.Cleanup(func() { close(ended) })
					repo.fetch = func(context.Context) error { <-ended; return errors.New("cut short") }
				}
				vs.set("web", version.VersionStatus{Deployed: sha('c')})
				vs.set("api", version.VersionStatus{Deployed: sha('c')})
				code, a := get(t, s, route+tc.path)
				want := tc.wait
				if route == "/status" {
					want = tc.stat
				}
				require.Equal(t, want, code)
				require.Equal(t, "local", a.Cluster)
			})
		}
	}
}
