package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
)

func sha(c byte) string { return strings.Repeat(string(c), 40) }

func newTestServer(t testing.TB, mod func(*Options)) (*Server, *memVersions, *linearRepo) {
	t.Helper()
	repo := &linearRepo{commits: []string{sha('a'), sha('b'), sha('c'), sha('d')}, hidden: []string{sha('e')}}
	vs := newMemVersions()
	opts := Options{Cluster: "prod", Namespaces: []string{"web", "api"}, Repo: repo, Versions: vs, Branch: func() string { return "main" }}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	require.NoError(t, err)
	return s, vs, repo
}

// get asks s through a recorder, on the handler goroutine path. It may run
// off the test goroutine: a bad body fails the test without stopping it.
func get(t *testing.T, s *Server, path string, hdr ...string) (int, answer) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	var a answer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Errorf("%s: %v: %s", path, err, rec.Body.String())
	}
	return rec.Code, a
}

// getAsync is get on a goroutine of its own, for a request that waits;
// the channel gets the status code.
func getAsync(t *testing.T, s *Server, path string) <-chan int {
	ch := make(chan int, 1)
	go func() {
		code, _ := get(t, s, path)
		ch <- code
	}()
	return ch
}

func TestWaitCodes(t *testing.T) {
	s, vs, repo := newTestServer(t, nil)
	vs.set("web", version.VersionStatus{Deployed: sha('c'), History: []version.Commit{
		{SHA: sha('d'), State: status.Failed, Reason: "Deployment web: CrashLoopBackOff"},
		{SHA: sha('c'), State: status.Deployed},
	}})
	vs.set("api", version.VersionStatus{Deployed: sha('d'), History: []version.Commit{{SHA: sha('d'), State: status.Deployed}}})

	cases := []struct {
		path  string
		code  int
		state string
	}{
		{"/wait/" + sha('c') + "?namespace=web", 200, "deployed"},
		{"/wait/bbbbbbb?namespace=web", 200, "deployed"}, // carried by deployed c
		{"/wait/" + sha('d') + "?namespace=web", 409, "failed"},
		{"/wait/" + sha('d'), 409, "failed"}, // all namespaces: any failed
		{"/wait/" + sha('c'), 200, "deployed"},
		{"/wait/" + sha('f') + "?namespace=web", 404, "unknown"},
		{"/wait/xyz", 400, "error"},
		{"/wait/" + sha('c') + "?timeout=soon", 400, "error"},
		{"/wait/" + sha('c') + "?namespace=other", 400, "error"},
	}
	for _, tc := range cases {
		code, a := get(t, s, tc.path)
		require.Equal(t, tc.code, code, tc.path)
		require.Equal(t, tc.state, a.State, tc.path)
	}
	_, a := get(t, s, "/wait/"+sha('d')+"?namespace=web")
	require.Contains(t, a.Reason, "CrashLoopBackOff")

	// An unknown sha triggers one fetch before 404; a fetched one is then known.
	code, a := get(t, s, "/wait/"+sha('e')[:7]+"?namespace=web&timeout=10ms")
	require.Equal(t, 408, code, "on the branch after the fetch, not applied yet")
	require.Equal(t, lifecycle.Pending, a.State)
	require.True(t, a.Retry)
	require.Equal(t, 1, repo.syncs)
}

func TestWaiterWakesOnChangeAndTimesOut(t *testing.T) {
	s, vs, _ := newTestServer(t, nil)
	vs.set("web", version.VersionStatus{Applied: sha('d'), History: []version.Commit{{SHA: sha('d'), State: status.RollingOut, Ready: 1, Total: 3}}})
	done := getAsync(t, s, "/wait/"+sha('d')+"?namespace=web&timeout=10m")
	require.Eventually(t, func() bool { return testGauge(s) == 1 }, 5*time.Second, time.Millisecond)
	vs.set("web", version.VersionStatus{Deployed: sha('d'), History: []version.Commit{{SHA: sha('d'), State: status.Deployed}}})
	require.Equal(t, 200, <-done, "woken by the change: its timeout is ten minutes away")

	code, a := get(t, s, "/wait/"+sha('c')+"?namespace=api&timeout=50ms")
	require.Equal(t, 408, code)
	require.True(t, a.Retry)
}

func testGauge(s *Server) int {
	mfs, _ := s.opts.Metrics.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "syncgate_wait_open" {
			return int(mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	return -1
}

func TestTokenAndReadiness(t *testing.T) {
	ready := false
	s, vs, _ := newTestServer(t, func(o *Options) {
		o.WaitToken = "t0ken"
		o.Ready = func() bool { return ready }
	})
	vs.set("web", version.VersionStatus{Deployed: sha('c')})
	code, _ := get(t, s, "/wait/"+sha('c'))
	require.Equal(t, 401, code)
	code, _ = get(t, s, "/wait/"+sha('c'), "Authorization", "Bearer wrong")
	require.Equal(t, 401, code)
	code, a := get(t, s, "/wait/"+sha('c'), "Authorization", "Bearer t0ken")
	require.Equal(t, 503, code)
	require.True(t, a.Retry)
	code, a = get(t, s, "/status/"+sha('c'), "Authorization", "Bearer t0ken")
	require.Equal(t, 503, code, "no answer from before the first sync")
	require.True(t, a.Retry)
	ready = true
	code, _ = get(t, s, "/wait/"+sha('c')+"?namespace=web", "Authorization", "Bearer t0ken")
	require.Equal(t, 200, code)
}

func TestShutdownAnswersWaitersToRetry(t *testing.T) {
	s, vs, _ := newTestServer(t, nil)
	vs.set("web", version.VersionStatus{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // Serve ends, also when a check below fails
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	type got struct {
		resp *http.Response
		err  error
	}
	answered := make(chan got, 1)
	go func() {
		r, err := http.Get("http://" + ln.Addr().String() + "/wait/" + sha('d') + "?namespace=web&timeout=60s")
		answered <- got{r, err}
	}()
	require.Eventually(t, func() bool { return testGauge(s) == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	a := <-answered
	require.NoError(t, a.err)
	r := a.resp
	defer r.Body.Close()
	require.Equal(t, 503, r.StatusCode)
	require.Equal(t, "1", r.Header.Get("Retry-After"))
	require.NoError(t, <-served)
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// postHook posts a JSON body to path with the headers given as name,
// value pairs, and returns the status code and the decoded JSON answer.
func postHook(s *Server, path string, body []byte, hdr ...string) (int, map[string]any) {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func TestWebhooks(t *testing.T) {
	var nudged []string
	var mu sync.Mutex
	s, _, _ := newTestServer(t, func(o *Options) {
		o.WebhookSecret = "hush"
		o.MaxBodyBytes = 4096
		o.Nudge = func(sha string) { mu.Lock(); nudged = append(nudged, sha); mu.Unlock() }
	})
	push := func(ref string) []byte {
		b, _ := json.Marshal(map[string]any{"ref": ref, "after": sha('e')})
		return b
	}
	post := func(path string, body []byte, hdr ...string) int {
		code, _ := postHook(s, path, body, hdr...)
		return code
	}
	main := push("refs/heads/main")
	require.Equal(t, 202, post("/hooks/github", main, "X-GitHub-Event", "push", "X-Hub-Signature-256", sign("hush", main)))
	require.Equal(t, 401, post("/hooks/github", main, "X-GitHub-Event", "push", "X-Hub-Signature-256", sign("guess", main)))
	require.Equal(t, 401, post("/hooks/github", main, "X-GitHub-Event", "push"))
	m1 := hmac.New(sha1.New, []byte("hush"))
	m1.Write(main)
	require.Equal(t, 401, post("/hooks/github", main, "X-GitHub-Event", "push", "X-Hub-Signature", "sha1="+hex.EncodeToString(m1.Sum(nil))),
		"a SHA-1 signature alone is not enough")
	other := push("refs/heads/feature")
	require.Equal(t, 202, post("/hooks/github", other, "X-GitHub-Event", "push", "X-Hub-Signature-256", sign("hush", other)))
	big := bytes.Repeat([]byte("x"), 10000)
	require.Equal(t, 413, post("/hooks/github", big, "X-GitHub-Event", "push", "X-Hub-Signature-256", sign("hush", big)))
	require.Equal(t, 202, post("/hooks/gitlab", main, "X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", "hush"))
	require.Equal(t, 401, post("/hooks/gitlab", main, "X-Gitlab-Event", "Push Hook", "X-Gitlab-Token", "nope"))
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{sha('e'), sha('e')}, nudged, "only the two genuine pushes to main")
}

func FuzzWaitParams(f *testing.F) {
	s, vs, _ := newTestServer(f, nil)
	vs.set("web", version.VersionStatus{Deployed: sha('c')})
	f.Add(sha('c'), "web", "1s")
	f.Add("abc", "", "-1")
	f.Add("ABCDEF0", "x", "99999999999999999999")
	f.Fuzz(func(t *testing.T, sha, ns, timeout string) {
		if _, err := s.parseWait(sha, ns, timeout); err == nil {
			require.Regexp(t, `^[0-9a-fA-F]{7,40}$`, sha)
		}
	})
}

func FuzzHooks(f *testing.F) {
	s, _, _ := newTestServer(f, func(o *Options) { o.WebhookSecret = "hush" })
	f.Add([]byte(`{"ref":"refs/heads/main","after":"abc"}`), "push")
	f.Add([]byte(`{`), "Push Hook")
	f.Fuzz(func(t *testing.T, body []byte, event string) {
		for _, p := range []string{"/hooks/github", "/hooks/gitlab"} {
			req := httptest.NewRequest(http.MethodPost, p, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", event)
			req.Header.Set("X-Gitlab-Event", event)
			req.Header.Set("X-Gitlab-Token", "hush")
			req.Header.Set("X-Hub-Signature-256", sign("hush", body))
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			require.Less(t, rec.Code, 500)
		}
	})
}

func TestParkedWaitersOverRealConnections(t *testing.T) {
	s, vs, _ := newTestServer(t, nil)
	vs.set("web", version.VersionStatus{Applied: sha('d'), History: []version.Commit{{SHA: sha('d'), State: status.RollingOut, Ready: 1, Total: 3}}})
	addr, _ := serve(t, s)
	type got struct {
		code int
		a    answer
		err  error
	}
	get := func(q string) got {
		resp, err := http.Get("http://" + addr + "/wait/" + sha('d') + "?namespace=web&" + q)
		if err != nil {
			return got{err: err}
		}
		defer resp.Body.Close()
		var a answer
		err = json.NewDecoder(resp.Body).Decode(&a)
		return got{code: resp.StatusCode, a: a, err: err}
	}

	timedOut := make(chan got, 1)
	go func() { timedOut <- get("timeout=300ms") }()
	require.Eventually(t, func() bool { return testGauge(s) == 1 }, 5*time.Second, time.Millisecond, "parked until its timeout")
	r := <-timedOut
	require.NoError(t, r.err)
	require.Equal(t, 408, r.code)
	require.True(t, r.a.Retry)
	require.Equal(t, 0, testGauge(s))

	const n = 50
	answers := make(chan got, n+1)
	for range n {
		go func() { answers <- get("timeout=10m") }()
	}
	go func() { answers <- get("timeout=10m&progress=true") }()
	require.Eventually(t, func() bool { return testGauge(s) == n+1 }, 5*time.Second, time.Millisecond, "parked")

	vs.set("web", version.VersionStatus{Applied: sha('d'), History: []version.Commit{{SHA: sha('d'), State: status.RollingOut, Ready: 2, Total: 3}}})
	r = <-answers
	require.NoError(t, r.err)
	require.Equal(t, 408, r.code, "a progress waiter is told of the step")
	vs.set("web", version.VersionStatus{Deployed: sha('d'), History: []version.Commit{{SHA: sha('d'), State: status.Deployed}}})
	for range n {
		r := <-answers
		require.NoError(t, r.err)
		require.Equal(t, 200, r.code, "woken by the change: the timeouts are ten minutes away")
	}
	require.Equal(t, 0, testGauge(s))
}

func TestParkedWaiterFreedWhenClientLeaves(t *testing.T) {
	s, vs, _ := newTestServer(t, nil)
	vs.set("web", version.VersionStatus{Applied: sha('d'), History: []version.Commit{{SHA: sha('d'), State: status.RollingOut}}})
	addr, _ := serve(t, s)
	stay, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer stay.Close()
	leave, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	req := "GET /wait/" + sha('d') + "?namespace=web&timeout=10m HTTP/1.1\r\nHost: syncgate\r\n\r\n"
	for _, c := range []net.Conn{stay, leave} {
		_, err = c.Write([]byte(req))
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return testGauge(s) == 2 }, 5*time.Second, time.Millisecond, "parked")

	// A client sending more bytes is still waiting; one that closes is not.
	_, err = stay.Write([]byte("GET /healthz HTTP/1.1\r\nHost: syncgate\r\n\r\n"))
	require.NoError(t, err)
	require.NoError(t, leave.Close())
	require.Eventually(t, func() bool { return testGauge(s) == 1 }, 5*time.Second, time.Millisecond, "freed")
	require.Equal(t, 1.0, testCounter(s, "syncgate_wait_abandoned_total"))

	vs.set("web", version.VersionStatus{Deployed: sha('d'), History: []version.Commit{{SHA: sha('d'), State: status.Deployed}}})
	br := bufio.NewReader(stay)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.Equal(t, 0, testGauge(s))

	// The answered connection waits for the client to close it, and is
	// closed by the gateway when the client does not.
	require.NoError(t, stay.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, err = br.ReadByte()
	var ne net.Error
	require.ErrorAs(t, err, &ne, "not closed along with the answer")
	require.True(t, ne.Timeout())
	require.NoError(t, stay.SetReadDeadline(time.Now().Add(time.Minute))) // against a hang, far beyond the linger
	_, err = br.ReadByte()
	// A reset rather than EOF: the bytes it sent while waiting were unread.
	require.Error(t, err)
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "closed by the gateway after the linger: %v", err)
}

func testCounter(s *Server, name string) float64 {
	mfs, _ := s.opts.Metrics.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return -1
}
