package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// The fetch behind an unknown sha: a failure is 503 (retry), not 404, and
// it is not cut short by the client that started it hanging up.
func TestFetchBehindAnUnknownSHA(t *testing.T) {
	// A failed fetch is told as such when it fails within the request's
	// bound (its timeout and fetchGate.grace): one that fails at once, and
	// one that hangs (as a dial does towards fetchTimeout) past a timeout
	// already reached as the request arrived.
	for _, tc := range []struct {
		name, timeout string
		hang          bool
	}{{"remote down", "10ms", false}, {"remote hanging past the timeout", "0", true}} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, repo := newTestServer(t, nil)
			s.fetches.grace = time.Hour
			release := make(chan struct{})
			if !tc.hang {
				close(release)
			}
			repo.fetch = func(context.Context) error {
				<-release
				return errors.New("dial tcp 10.0.0.1:443: connect: connection refused")
			}
			req := httptest.NewRequest(http.MethodGet, "/wait/"+sha('e')+"?namespace=web&timeout="+tc.timeout, nil)
			rec := httptest.NewRecorder()
			served := make(chan struct{})
			go func() { defer close(served); s.Handler().ServeHTTP(rec, req) }()
			if tc.hang {
				require.Eventually(t, func() bool { return fetchWaiting(s) == 1 }, 5*time.Second, time.Millisecond, "the request waits for the fetch")
				close(release)
			}
			<-served
			require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
			require.NotEmpty(t, rec.Header().Get("Retry-After"))
			var a answer
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a))
			require.True(t, a.Retry)
			require.Equal(t, stateUnavailable, a.State)
			require.Contains(t, a.Error, "connection refused")
		})
	}
	// A commit deployed once fetched: answered 200 as soon as the fetch
	// brings it, whatever the requests' timeouts.
	deployed := func(c byte) version.VersionStatus {
		return version.VersionStatus{Deployed: sha(c), History: []version.Commit{{SHA: sha(c), State: status.Deployed}}}
	}
	t.Run("first client hangs up", func(t *testing.T) {
		s, vs, repo := newTestServer(t, nil)
		vs.set("web", deployed('e'))
		release := make(chan struct{})
		started := make(chan struct{}, 2)
		repo.fetch = func(ctx context.Context) error {
			started <- struct{}{}
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		ctx, hangUp := context.WithCancel(context.Background())
		first := make(chan int, 1)
		go func() {
			req := httptest.NewRequest(http.MethodGet, "/wait/"+sha('e')+"?namespace=web&timeout=10ms", nil).WithContext(ctx)
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			first <- rec.Code
		}()
		<-started
		second := getAsync(t, s, "/wait/"+sha('e')+"?namespace=web&timeout=10ms")
		hangUp()
		<-first
		require.Equal(t, 1.0, testCounter(s, "syncgate_wait_abandoned_total"), "the client that left is counted abandoned")
		require.Zero(t, testAnswered(s, http.StatusServiceUnavailable), "and not answered")
		close(release)
		require.Equal(t, http.StatusOK, <-second, "the shared fetch found the sha")
		require.Equal(t, 1, repo.syncs)
		require.Empty(t, started, "one fetch served both requests")
	})
	t.Run("a commit pushed while a fetch ran is found by the next, not 404", func(t *testing.T) {
		s, vs, repo := newTestServer(t, func(o *Options) { o.FetchEvery = 50 * time.Millisecond })
		vs.set("web", deployed('8'))
		release := make(chan struct{})
		started := make(chan struct{}, 2)
		repo.fetch = func(context.Context) error {
			started <- struct{}{}
			<-release
			return nil
		}
		first := getAsync(t, s, "/wait/"+sha('9')+"?namespace=web&timeout=10ms")
		<-started // the first fetch lists the remote before the push
		repo.push(sha('8'))
		second := getAsync(t, s, "/wait/"+sha('8')+"?namespace=web&timeout=10ms")
		require.Eventually(t, func() bool { return fetchWaiting(s) == 2 }, 5*time.Second, time.Millisecond)
		close(release)
		require.Equal(t, http.StatusNotFound, <-first)
		require.Equal(t, http.StatusOK, <-second, "found by a fetch that began after the request")
		require.Equal(t, 2, repo.syncs)
	})
	t.Run("a fetch made elsewhere brings the sha: answered without waiting for the paced one", func(t *testing.T) {
		s, vs, repo := newTestServer(t, func(o *Options) { o.FetchEvery = time.Hour })
		vs.set("web", deployed('8'))
		code, _ := get(t, s, "/wait/"+sha('9')+"?namespace=web&timeout=10ms")
		require.Equal(t, http.StatusNotFound, code, "the first fetch ran at once and did not find it")
		repo.push(sha('8'))
		answered := getAsync(t, s, "/wait/"+sha('8')+"?namespace=web&timeout=10ms")
		require.Eventually(t, func() bool { return fetchWaiting(s) == 1 }, 5*time.Second, time.Millisecond)
		repo.fetchedElsewhere() // a push webhook's fetch, an hour before the next paced one
		select {
		case code := <-answered:
			require.Equal(t, http.StatusOK, code, "found on the branch")
		case <-time.After(30 * time.Second):
			t.Fatal("the request still waits for the paced fetch an hour away")
		}
		require.Equal(t, 1, repo.syncs, "the gateway fetched once")
	})
}

// An unknown sha is told 404 once a fetch that began after the request
// arrived found nothing, however short the request's timeout, when that
// fetch ends within fetchGate.grace: the wait for the running fetch and
// the paced one after it count in that grace, not in the timeout.
func TestAnUnknownSHAIsToldSoWhateverTheTimeout(t *testing.T) {
	for name, ask := range transports {
		t.Run(name, func(t *testing.T) {
			s, _, repo := newTestServer(t, func(o *Options) { o.FetchEvery = 50 * time.Millisecond })
			s.fetches.grace = time.Hour
			addr, _ := serveUntil(t, s)
			started, release := make(chan struct{}, 2), make(chan struct{})
			repo.fetch = func(context.Context) error {
				started <- struct{}{}
				<-release
				return nil
			}
			path := "/wait/" + sha('9') + "?namespace=web&timeout=0"
			first, second := make(chan told, 1), make(chan told, 1)
			go func() { first <- ask(s, addr, path) }()
			<-started // began after the first request arrived
			go func() { second <- ask(s, addr, path) }()
			require.Eventually(t, func() bool { return fetchWaiting(s) == 2 }, 5*time.Second, time.Millisecond, "both wait for the fetch")
			release <- struct{}{}
			for i, got := range []chan told{first, second} {
				if i == 1 {
					<-started // the second request's own fetch, paced behind the first
					release <- struct{}{}
				}
				r := <-got
				require.NoError(t, r.err)
				require.Equal(t, http.StatusNotFound, r.code, "request %d: %+v", i+1, r.a)
				require.Equal(t, "unknown", r.a.State)
			}
			require.Equal(t, 2, repo.syncs)
		})
	}
}

// The wait on a commit's state runs to the deadline fixed as the request
// arrived, on both transports, so the fetch behind an unknown sha counts
// against it: a fetch that ends before the deadline leaves only the rest
// of the timeout to wait, one that ends past it is followed by the state
// at once.
func TestWaitDeadlineCountsTheFetch(t *testing.T) {
	const timeout = time.Second
	for _, fetching := range []time.Duration{800 * time.Millisecond, timeout + 100*time.Millisecond} {
		for name, ask := range transports {
			t.Run(fetching.String()+"/"+name, func(t *testing.T) {
				s, _, repo := newTestServer(t, nil)
				addr, _ := serveUntil(t, s)
				ended := make(chan time.Time, 1)
				repo.fetch = func(context.Context) error {
					<-time.After(fetching) // a slow remote; the fetch begins after the request arrived
					ended <- time.Now()
					return nil
				}
				r := ask(s, addr, "/wait/"+sha('e')+"?namespace=web&timeout="+timeout.String())
				told := time.Now()
				require.NoError(t, r.err)
				require.Equal(t, http.StatusRequestTimeout, r.code, "%+v", r.a)
				require.Equal(t, "pending", r.a.State, "the fetch found the sha; not applied yet")
				require.True(t, r.a.Retry)
				waited, err := time.ParseDuration(r.a.Elapsed)
				require.NoError(t, err)
				require.GreaterOrEqual(t, waited, timeout, "not final: told at the deadline")
				require.Less(t, told.Sub(<-ended), timeout, "not the whole timeout after the fetch")
				require.Equal(t, 1, repo.syncs)
			})
		}
	}
}

// fetchWaiting is how many requests wait for a fetch.
func fetchWaiting(s *Server) int {
	s.fetches.mu.Lock()
	defer s.fetches.mu.Unlock()
	return s.fetches.waiting
}

// testAnswered is how many /wait answers s gave with code.
func testAnswered(s *Server, code int) float64 {
	mfs, _ := s.opts.Metrics.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "syncgate_wait_responses_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == strconv.Itoa(code) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
