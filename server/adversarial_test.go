package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// followed is the remote the adversarial server follows.
const followed = "https://github.com/example/config.git"

// githubPush is a push payload in GitHub's order: ref, after and the
// repository first, then as many commits as it takes to reach size bytes.
func githubPush(repo, ref, after string, size int) []byte {
	type commit struct {
		ID       string   `json:"id"`
		Message  string   `json:"message"`
		Modified []string `json:"modified"`
	}
	owner, name, _ := strings.Cut(repo, "/")
	ev := struct {
		Ref        string         `json:"ref"`
		Before     string         `json:"before"`
		After      string         `json:"after"`
		Repository map[string]any `json:"repository"`
		Pusher     map[string]any `json:"pusher"`
		Commits    []commit       `json:"commits"`
	}{Ref: ref, Before: sha('0'), After: after, Pusher: map[string]any{"name": "ci"},
		Repository: map[string]any{
			"full_name": repo, "name": name, "owner": map[string]any{"login": owner},
			"html_url":  "https://github.com/" + repo,
			"clone_url": "https://github.com/" + repo + ".git",
			"ssh_url":   "git@github.com:" + repo + ".git",
		}}
	files := make([]string, 200)
	for i := range files {
		files[i] = fmt.Sprintf("apps/service-%04d/overlays/prod/deployment.yaml", i)
	}
	c := commit{ID: after, Message: "bump images", Modified: files}
	cb, _ := json.Marshal(c)
	b, _ := json.Marshal(ev)
	for n := len(b); n < size; n += len(cb) + 1 {
		ev.Commits = append(ev.Commits, c)
	}
	b, _ = json.Marshal(ev)
	return b
}

func gitlabPush(project, ref, after string) []byte {
	b, _ := json.Marshal(map[string]any{
		"object_kind": "push", "ref": ref, "after": after,
		"project": map[string]any{
			"path_with_namespace": project,
			"git_http_url":        "https://gitlab.com/" + project + ".git",
			"git_ssh_url":         "git@gitlab.com:" + project + ".git",
		},
	})
	return b
}

func randomSHA(t testing.TB) string {
	b := make([]byte, 20)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// serve runs s on loopback listeners until the test ends: the main one
// and the probes' own.
func serve(t *testing.T, s *Server) (addr, probes string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- s.Serve(ctx, ln) }()
	go func() { done <- s.ServeProbes(ctx, pln) }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return ln.Addr().String(), pln.Addr().String()
}

// TestAttacks is what an unauthenticated client, or a forge hook shared by
// other repos, can send; each must cost little and act on nothing.
func TestAttacks(t *testing.T) {
	type env struct {
		s      *Server
		vs     *memVersions
		repo   *linearRepo
		nudges *atomic.Int32
	}
	setup := func(t *testing.T) env {
		nudges := &atomic.Int32{}
		s, vs, repo := newTestServer(t, func(o *Options) {
			o.WebhookSecret = "hush"
			o.RepoURL = followed
			o.FetchEvery = 200 * time.Millisecond
			o.Nudge = func(string) { nudges.Add(1) }
		})
		vs.set("web", version.VersionStatus{Deployed: sha('d'), History: []version.Commit{{SHA: sha('d'), State: status.Deployed}}})
		return env{s: s, vs: vs, repo: repo, nudges: nudges}
	}
	github := func(body []byte) []string {
		return []string{"X-GitHub-Event", "push", "X-Hub-Signature-256", sign("hush", body)}
	}

	cases := []struct {
		name   string
		attack func(t *testing.T, e env)
	}{
		{"a real-size GitHub push is taken, an oversized one refused", func(t *testing.T, e env) {
			body := githubPush("example/config", "refs/heads/main", sha('e'), 20<<20)
			hdr := github(body)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			code, out := postHook(e.s, "/hooks/github", body, hdr...)
			runtime.ReadMemStats(&after)
			require.Equal(t, http.StatusAccepted, code, out)
			require.Equal(t, "fetching", out["result"])
			require.EqualValues(t, 1, e.nudges.Load())
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("a %d MiB push allocated %d KiB", len(body)>>20, allocated>>10)
			require.Less(t, allocated, uint64(2<<20), "read as it streams, not held whole")

			huge := githubPush("example/config", "refs/heads/main", sha('e'), 26<<20)
			code, out = postHook(e.s, "/hooks/github", huge, github(huge)...)
			require.Equal(t, http.StatusRequestEntityTooLarge, code, out)
			require.EqualValues(t, 1, e.nudges.Load())
		}},
		{"another repo's webhook with the shared secret is ignored", func(t *testing.T, e env) {
			body := githubPush("example/other", "refs/heads/main", sha('e'), 0)
			code, out := postHook(e.s, "/hooks/github", body, github(body)...)
			require.Equal(t, http.StatusAccepted, code)
			require.Equal(t, "ignored", out["result"])
			require.Contains(t, out["message"], "example/other")

			gl := gitlabPush("example/other", "refs/heads/main", sha('e'))
			code, out = postHook(e.s, "/hooks/gitlab", gl, "X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", "hush")
			require.Equal(t, http.StatusAccepted, code)
			require.Equal(t, "ignored", out["result"])
			require.EqualValues(t, 0, e.nudges.Load(), "no fetch for another repo")

			// The followed repo, named as each forge names it, still acts.
			body = githubPush("Example/Config", "refs/heads/main", sha('e'), 0)
			code, out = postHook(e.s, "/hooks/github", body, github(body)...)
			require.Equal(t, http.StatusAccepted, code)
			require.Equal(t, "fetching", out["result"], out)
			gl = gitlabPush("example/config", "refs/heads/main", sha('e'))
			gl = bytes.ReplaceAll(gl, []byte("gitlab.com"), []byte("github.com"))
			code, out = postHook(e.s, "/hooks/gitlab", gl, "X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", "hush")
			require.Equal(t, http.StatusAccepted, code)
			require.Equal(t, "fetching", out["result"], out)
			require.EqualValues(t, 2, e.nudges.Load())
		}},
		{"the read API and the page need the token when one is set", func(t *testing.T, _ env) {
			s, _, _ := newTestServer(t, func(o *Options) { o.WaitToken = "t0ken" })
			for _, path := range []string{"/api/v1/versions", "/", "/status/" + sha('d'), "/wait/" + sha('d')} {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				rec := httptest.NewRecorder()
				s.Handler().ServeHTTP(rec, req)
				require.Equal(t, http.StatusUnauthorized, rec.Code, path)
				require.NotContains(t, rec.Body.String(), "prod", path)
			}
		}},
		{"a flood of random shas fetches a bounded number of times", func(t *testing.T, e env) {
			// Each fetch takes a little while, as a remote's would.
			e.repo.fetch = func(ctx context.Context) error {
				t := time.NewTimer(2 * time.Millisecond)
				defer t.Stop()
				select {
				case <-t.C:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			e.s.fetches.every = time.Second // wider than the flood takes to arrive, even on a busy machine
			const n = 1000
			codes := make(chan int, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					req := httptest.NewRequest(http.MethodGet, "/wait/"+randomSHA(t)+"?timeout=1s", nil)
					rec := httptest.NewRecorder()
					e.s.Handler().ServeHTTP(rec, req)
					codes <- rec.Code
				}()
			}
			close(start)
			wg.Wait()
			close(codes)
			for c := range codes {
				require.Equal(t, http.StatusNotFound, c)
			}
			e.repo.mu.Lock()
			fetches := e.repo.syncs
			e.repo.mu.Unlock()
			t.Logf("%d requests with random shas: %d fetches", n, fetches)
			require.LessOrEqual(t, fetches, 3)
		}},
		{"a flood of silent connections leaves probes and waiters answered", func(t *testing.T, e env) {
			addr, probes := serve(t, e.s)
			const idle = 3000
			before := runtime.NumGoroutine()
			var silent []net.Conn
			for range idle {
				c, err := net.Dial("tcp", addr)
				require.NoError(t, err)
				t.Cleanup(func() { c.Close() })
				silent = append(silent, c)
			}
			// A silent connection costs no goroutine (nor net/http's
			// buffers), for longer than it would hold an admission slot.
			require.Never(t, func() bool { return runtime.NumGoroutine() > before+idle/10 }, 750*time.Millisecond, 10*time.Millisecond,
				"goroutines per silent connection")
			client := &http.Client{Timeout: time.Minute}
			for _, base := range []string{probes, addr} {
				for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
					start := time.Now()
					resp, err := client.Get("http://" + base + path)
					require.NoError(t, err)
					resp.Body.Close()
					t.Logf("%s%s after %d silent connections: %s", base, path, idle, time.Since(start))
					require.Equal(t, http.StatusOK, resp.StatusCode)
				}
			}
			// A long poll on the main listener is answered too, and none of
			// the silent connections had to be dropped for it.
			resp, err := client.Get("http://" + addr + "/wait/" + sha('d') + "?namespace=web")
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			for _, c := range []net.Conn{silent[0], silent[idle/2], silent[idle-1]} {
				require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Millisecond)))
				_, err := c.Read(make([]byte, 1))
				var ne net.Error
				require.True(t, errors.As(err, &ne) && ne.Timeout(), "a silent connection is still open: %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.attack(t, setup(t)) })
	}
}

func TestSameRepo(t *testing.T) {
	cases := []struct {
		remote string
		ev     pushEvent
		same   bool
	}{
		{followed, pushEvent{URLs: []string{"https://github.com/example/config.git"}}, true},
		{followed, pushEvent{URLs: []string{"git@github.com:Example/Config.git"}}, true},
		{followed, pushEvent{URLs: []string{"https://github.com/example/config/"}}, true},
		{"ssh://git@github.com:22/example/config.git", pushEvent{URLs: []string{"https://github.com/example/config"}}, true},
		{"https://x-access-token:ghp_secret@github.com/example/config.git", pushEvent{URLs: []string{"https://github.com/example/config"}}, true},
		{"git@gitlab.example.com:group/sub/app.git", pushEvent{Name: "group/sub/app"}, true},
		{followed, pushEvent{URLs: []string{"https://ghe.example.com/other/x"}, Name: "example/config"}, true},
		{followed, pushEvent{}, true}, // names none: only a holder of the secret sends that
		{followed, pushEvent{URLs: []string{"https://github.com/example/other.git"}, Name: "example/other"}, false},
		{followed, pushEvent{URLs: []string{"https://github.com/example/config-fork"}}, false},
		{followed, pushEvent{URLs: []string{"https://evil.example.com/example/config"}}, false},
		{"git@gitlab.example.com:group/sub/app.git", pushEvent{Name: "sub/app"}, false},
	}
	for _, tc := range cases {
		require.Equal(t, tc.same, tc.ev.sameRepo(tc.remote), "%s vs %+v", tc.remote, tc.ev)
	}
}
