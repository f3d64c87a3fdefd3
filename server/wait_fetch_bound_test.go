package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// hangingFetch makes repo's fetches hang until the test ends or their
// context does; ended gets each fetch's context error.
func hangingFetch(t *testing.T, repo *linearRepo) (started chan struct{}, ended chan error) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	started, ended = make(chan struct{}, 4), make(chan error, 4)
	repo.fetch = func(ctx context.Context) error {
		started <- struct{}{}
		select {
		case <-release:
			ended <- nil
			return nil
		case <-ctx.Done():
			ended <- ctx.Err()
			return ctx.Err()
		}
	}
	return started, ended
}

// serveAsync asks s for path through a recorder on a goroutine of its own.
func serveAsync(s *Server, path string, hdr ...string) <-chan *httptest.ResponseRecorder {
	ch := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		ch <- rec
	}()
	return ch
}

// answered is what ch was told; the fetch is still hanging, so a request
// that waits for it to its end fails here.
func answered(t *testing.T, ch <-chan *httptest.ResponseRecorder) (int, http.Header, answer) {
	t.Helper()
	select {
	case rec := <-ch:
		var a answer
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a), rec.Body.String())
		return rec.Code, rec.Header(), a
	case <-time.After(20 * time.Second):
		t.Fatal("no answer while the fetch hangs: the request waits for it past its deadline")
		return 0, nil, answer{}
	}
}

// A fetch that has not answered by the request's deadline (and a short
// grace) is not waited for: the request is told the commit is not known
// yet and a fetch is under way, 408 and retry on /wait, 202 on /status;
// never 404, which would tell CI there is no such commit. The fetch goes
// on, and the next request that it answers takes its word.
func TestAFetchPastTheDeadlineIsNotWaitedFor(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		hdr        []string
		code       int
	}{
		{"wait", "/wait/" + sha('e') + "?namespace=web&timeout=10ms", nil, http.StatusRequestTimeout},
		{"status", "/status/" + sha('e'), nil, http.StatusAccepted},
		{"status page", "/status/" + sha('e'), []string{"Accept", "text/html"}, http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, repo := newTestServer(t, nil)
			s.fetches.grace = 20 * time.Millisecond
			started, ended := hangingFetch(t, repo)
			start := time.Now()
			ch := serveAsync(s, tc.path, tc.hdr...)
			<-started
			if tc.hdr != nil {
				rec := <-ch
				require.Equal(t, tc.code, rec.Code)
				require.Contains(t, rec.Body.String(), "fetch of the config repo")
				return
			}
			code, hdr, a := answered(t, ch)
			require.Equal(t, tc.code, code, "%+v", a)
			require.Equal(t, stateFetching, a.State)
			require.True(t, a.Retry)
			require.Contains(t, a.Reason, "not known yet")
			require.Contains(t, a.Reason, "fetch of the config repo")
			require.Empty(t, hdr.Get("Retry-After"))
			if tc.code == http.StatusRequestTimeout {
				waited, err := time.ParseDuration(a.Elapsed)
				require.NoError(t, err)
				require.GreaterOrEqual(t, time.Since(start), 10*time.Millisecond, "not before the deadline")
				require.Positive(t, waited)
			}
			require.Empty(t, ended, "the fetch goes on for the others")
			require.Zero(t, fetchWaiting(s))
		})
	}
}

// The bound of a request's wait for a fetch is its own: a fetch that ends
// within it still decides, 404 when it did not find the sha.
func TestAFetchWithinTheDeadlineDecides(t *testing.T) {
	s, _, _ := newTestServer(t, func(o *Options) { o.FetchEvery = time.Hour })
	code, a := get(t, s, "/wait/"+sha('9')+"?namespace=web&timeout=10ms")
	require.Equal(t, http.StatusNotFound, code, "%+v", a)
	code, a = get(t, s, "/status/"+sha('e'))
	require.Equal(t, http.StatusAccepted, code, "%+v", a)
	require.Equal(t, "pending", a.State, "found by the first fetch")
}

// On shutdown a request waiting for a fetch is told 503 and retry at once,
// as other waits are, the fetch is cut short, and Serve ends in time.
func TestShutdownAnswersRequestsWaitingForAFetch(t *testing.T) {
	for _, route := range []string{"wait", "status"} {
		t.Run(route, func(t *testing.T) {
			s, _, repo := newTestServer(t, nil)
			s.fetches.grace = time.Hour // /status waits for the fetch until shutdown
			started, ended := hangingFetch(t, repo)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			served := make(chan error, 1)
			go func() { served <- s.Serve(ctx, ln) }()
			type got struct {
				code       int
				retryAfter string
				a          answer
				err        error
			}
			told := make(chan got, 1)
			go func() {
				r, err := http.Get("http://" + ln.Addr().String() + "/" + route + "/" + sha('e') + "?namespace=web&timeout=60s")
				if err != nil {
					told <- got{err: err}
					return
				}
				defer r.Body.Close()
				g := got{code: r.StatusCode, retryAfter: r.Header.Get("Retry-After")}
				g.err = json.NewDecoder(r.Body).Decode(&g.a)
				told <- g
			}()
			<-started
			require.Eventually(t, func() bool { return fetchWaiting(s) == 1 }, 5*time.Second, time.Millisecond)
			cancel()
			select {
			case g := <-told:
				require.NoError(t, g.err)
				require.Equal(t, http.StatusServiceUnavailable, g.code, "%+v", g.a)
				require.Equal(t, "1", g.retryAfter)
				require.True(t, g.a.Retry)
				require.Equal(t, stateUnavailable, g.a.State)
				require.Contains(t, g.a.Error, "shutting down")
			case <-time.After(5 * time.Second):
				t.Fatal("the request still waits for the fetch after shutdown began")
			}
			require.ErrorIs(t, <-ended, context.Canceled, "the fetch is cut short")
			select {
			case err := <-served:
				require.NoError(t, err)
			case <-time.After(5 * time.Second):
				t.Fatal("Serve still waits after shutdown")
			}
		})
	}
}

// A request that arrives after the latest fetch began waits for the next,
// which the pacing starts up to FetchEvery later, past the request's
// deadline and the grace: that fetch still decides. A sha that is not
// there is told 404, on /status and with a timeout of 0 too, never
// "fetching" for as long as the requests come faster than the fetches.
func TestAnUnknownSHAIsToldByTheNextPacedFetch(t *testing.T) {
	// The grace is well short of the pacing, so the old bound (the
	// deadline and the grace) passes before the next fetch starts, and
	// long enough for that fetch to end within it on a loaded machine.
	const every, grace = time.Second, 300 * time.Millisecond
	for _, path := range []string{"/status/" + sha('9'), "/wait/" + sha('9') + "?namespace=web&timeout=0"} {
		t.Run(path, func(t *testing.T) {
			s, _, repo := newTestServer(t, func(o *Options) { o.FetchEvery = every })
			s.fetches.grace = grace
			code, a := get(t, s, path)
			require.Equal(t, http.StatusNotFound, code, "the first fetch began after the request: %+v", a)
			start := time.Now()
			code, a = get(t, s, path)
			require.Equal(t, http.StatusNotFound, code, "told by the next fetch: %+v", a)
			require.Equal(t, "unknown", a.State)
			require.Equal(t, 2, repo.syncs, "one fetch for each")
			require.GreaterOrEqual(t, time.Since(start), every-grace, "the fetch is paced")
		})
	}
}

// The deciding fetch is awaited from its start for the grace only: one
// slower than that is told "fetching", 408 on /wait and 202 on /status.
func TestASlowPacedFetchIsToldFetching(t *testing.T) {
	for _, tc := range []struct {
		path string
		code int
	}{{"/status/" + sha('9'), http.StatusAccepted}, {"/wait/" + sha('9') + "?namespace=web&timeout=0", http.StatusRequestTimeout}} {
		t.Run(tc.path, func(t *testing.T) {
			s, _, repo := newTestServer(t, func(o *Options) { o.FetchEvery = 100 * time.Millisecond })
			s.fetches.grace = 20 * time.Millisecond
			code, _ := get(t, s, tc.path) // the first fetch, at once
			require.Equal(t, http.StatusNotFound, code)
			started, ended := hangingFetch(t, repo)
			ch := serveAsync(s, tc.path)
			<-started
			code, _, a := answered(t, ch)
			require.Equal(t, tc.code, code, "%+v", a)
			require.Equal(t, stateFetching, a.State)
			require.Empty(t, ended, "the fetch goes on for the others")
		})
	}
}
