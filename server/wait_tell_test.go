package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// told is what a waiter was told, as its client saw it.
type told struct {
	code       int
	retryAfter string
	a          answer
	err        error
}

// transports are the two ways a /wait is held: a handler goroutine (HTTP/2,
// recorders) and a parked connection (HTTP/1.x). Each asks for path on a
// served s and returns what the client was told.
var transports = map[string]func(s *Server, addr, path string) told{
	"handler goroutine": func(s *Server, _ string, path string) told {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		t := told{code: rec.Code, retryAfter: rec.Header().Get("Retry-After")}
		t.err = json.Unmarshal(rec.Body.Bytes(), &t.a)
		return t
	},
	"parked connection": func(_ *Server, addr, path string) told {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return told{err: err}
		}
		defer c.Close()
		if _, err := c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: syncgate\r\n\r\n")); err != nil {
			return told{err: err}
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return told{err: err}
		}
		defer resp.Body.Close()
		t := told{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
		t.err = json.NewDecoder(resp.Body).Decode(&t.a)
		return t
	},
}

// Both transports tell a waiter the same thing in every case: one rule.
func TestWaitersAreToldAlikeOnBothTransports(t *testing.T) {
	rolling := func(ready int32) version.VersionStatus {
		return version.VersionStatus{Applied: sha('d'), History: []version.Commit{{SHA: sha('d'), State: status.RollingOut, Ready: ready, Total: 3}}}
	}
	deployed := version.VersionStatus{Deployed: sha('d'), History: []version.Commit{{SHA: sha('d'), State: status.Deployed}}}
	failed := version.VersionStatus{Applied: sha('d'), History: []version.Commit{{SHA: sha('d'), State: status.Failed, Reason: "Deployment web: CrashLoopBackOff"}}}
	type env struct {
		vs       *memVersions
		shutdown func()
	}
	cases := []struct {
		name   string
		before version.VersionStatus
		query  string
		while  func(e env) // once the waiter waits; nil: it is answered at once
		code   int
		state  string
		retry  bool
		after  string // Retry-After
	}{
		{"deployed at once", deployed, "", nil, 200, "deployed", false, ""},
		{"failed at once", failed, "", nil, 409, "failed", false, ""},
		{"no time to wait", rolling(1), "timeout=0", nil, 408, string(status.RollingOut), true, ""},
		{"deployed while waiting", rolling(1), "timeout=10m", func(e env) { e.vs.set("web", deployed) }, 200, "deployed", false, ""},
		{"failed while waiting", rolling(1), "timeout=10m", func(e env) { e.vs.set("web", failed) }, 409, "failed", false, ""},
		{"a step, with progress", rolling(1), "timeout=10m&progress=true", func(e env) { e.vs.set("web", rolling(2)) }, 408, string(status.RollingOut), true, ""},
		{"a step, then deployed, without progress", rolling(1), "timeout=10m", func(e env) {
			e.vs.set("web", rolling(2))
			e.vs.set("web", deployed)
		}, 200, "deployed", false, ""},
		{"timed out", rolling(1), "timeout=300ms", func(env) {}, 408, string(status.RollingOut), true, ""},
		{"shutdown", rolling(1), "timeout=10m", func(e env) { e.shutdown() }, 503, string(status.RollingOut), true, "1"},
	}
	for _, tc := range cases {
		for name, ask := range transports {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				s, vs, _ := newTestServer(t, nil)
				vs.set("web", tc.before)
				addr, shutdown := serveUntil(t, s)
				got := make(chan told, 1)
				go func() { got <- ask(s, addr, "/wait/"+sha('d')+"?namespace=web&"+tc.query) }()
				if tc.while != nil {
					require.Eventually(t, func() bool { return testGauge(s) == 1 }, 10*time.Second, time.Millisecond, "waiting")
					tc.while(env{vs: vs, shutdown: shutdown})
				}
				r := <-got
				require.NoError(t, r.err)
				require.Equal(t, tc.code, r.code)
				require.Equal(t, tc.state, r.a.State)
				require.Equal(t, tc.retry, r.a.Retry)
				require.Equal(t, tc.after, r.retryAfter)
				if tc.retry {
					require.NotEmpty(t, r.a.Elapsed, "a waiter told to retry is told how long it waited")
				}
				require.Equal(t, 0, testGauge(s), "no waiter left")
			})
		}
	}
}

// serveUntil serves s on loopback until stop is called or the test ends,
// and awaits Serve.
func serveUntil(t *testing.T, s *Server) (addr string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return ln.Addr().String(), cancel
}
