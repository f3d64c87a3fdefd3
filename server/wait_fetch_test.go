package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// The fetch behind an unknown sha: a failure is 503 (retry), not 404, and
// it is not cut short by the client that started it hanging up.
func TestFetchBehindAnUnknownSHA(t *testing.T) {
	t.Run("remote down", func(t *testing.T) {
		s, _, repo := newTestServer(t, nil)
		repo.fetch = func(context.Context) error { return errors.New("dial tcp 10.0.0.1:443: connect: connection refused") }
		req := httptest.NewRequest(http.MethodGet, "/wait/"+sha('e')+"?namespace=web&timeout=1m", nil)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
		require.NotEmpty(t, rec.Header().Get("Retry-After"))
		var a answer
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a))
		require.True(t, a.Retry)
		require.Contains(t, a.Error, "connection refused")
	})
	// A commit deployed once fetched: answered 200 as soon as the fetch
	// brings it, long before the requests' timeouts.
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
			req := httptest.NewRequest(http.MethodGet, "/wait/"+sha('e')+"?namespace=web&timeout=1m", nil).WithContext(ctx)
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			first <- rec.Code
		}()
		<-started
		second := getAsync(t, s, "/wait/"+sha('e')+"?namespace=web&timeout=1m")
		hangUp()
		<-first
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
		first := getAsync(t, s, "/wait/"+sha('9')+"?namespace=web&timeout=1m")
		<-started // the first fetch lists the remote before the push
		repo.push(sha('8'))
		second := getAsync(t, s, "/wait/"+sha('8')+"?namespace=web&timeout=1m")
		require.Eventually(t, func() bool { s.fetches.mu.Lock(); defer s.fetches.mu.Unlock(); return s.fetches.waiting == 2 }, 5*time.Second, time.Millisecond)
		close(release)
		require.Equal(t, http.StatusNotFound, <-first)
		require.Equal(t, http.StatusOK, <-second, "found by a fetch that began after the request")
		require.Equal(t, 2, repo.syncs)
	})
	t.Run("a fetch made elsewhere brings the sha: answered without waiting for the paced one", func(t *testing.T) {
		s, vs, repo := newTestServer(t, func(o *Options) { o.FetchEvery = time.Hour })
		vs.set("web", deployed('8'))
		code, _ := get(t, s, "/wait/"+sha('9')+"?namespace=web&timeout=1m")
		require.Equal(t, http.StatusNotFound, code, "the first fetch ran at once and did not find it")
		repo.push(sha('8'))
		answered := getAsync(t, s, "/wait/"+sha('8')+"?namespace=web&timeout=1m")
		require.Eventually(t, func() bool { s.fetches.mu.Lock(); defer s.fetches.mu.Unlock(); return s.fetches.waiting == 1 }, 5*time.Second, time.Millisecond)
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

// A wait's timeout bounds the fetch behind an unknown sha too, on both
// transports: at the deadline the request is told 408, retry, while the
// fetch is still held, and the fetch goes on for the requests after it.
func TestWaitTimeoutBoundsTheFetchBehindAnUnknownSHA(t *testing.T) {
	for name, ask := range transports {
		t.Run(name, func(t *testing.T) {
			s, _, repo := newTestServer(t, nil)
			addr, _ := serveUntil(t, s)
			release := make(chan struct{})
			var free sync.Once
			t.Cleanup(func() { free.Do(func() { close(release) }) })
			started, ended := make(chan struct{}, 1), make(chan struct{})
			repo.fetch = func(context.Context) error {
				defer close(ended)
				started <- struct{}{}
				<-release // a remote that takes its time, up to fetchTimeout
				return nil
			}
			got := make(chan told, 1)
			go func() { got <- ask(s, addr, "/wait/"+sha('e')+"?namespace=web&timeout=1s") }()
			<-started
			select {
			case r := <-got:
				require.NoError(t, r.err)
				require.Equal(t, http.StatusRequestTimeout, r.code, "%+v", r.a)
				require.Equal(t, "fetching", r.a.State)
				require.True(t, r.a.Retry)
				waited, err := time.ParseDuration(r.a.Elapsed)
				require.NoError(t, err)
				require.GreaterOrEqual(t, waited, time.Second, "answered at the deadline, not before")
				select {
				case <-ended:
					t.Fatal("answered only once the fetch ended")
				default:
				}
			case <-time.After(20 * time.Second):
				t.Fatal("no answer 20 s into a 1 s wait: the fetch behind the sha holds it")
			}
			free.Do(func() { close(release) })
			<-ended
			code, a := get(t, s, "/wait/"+sha('e')+"?namespace=web&timeout=0")
			require.Equal(t, http.StatusRequestTimeout, code)
			require.Equal(t, "pending", a.State, "the fetch went on and found the sha")
			require.Equal(t, 1, repo.syncs)
		})
	}
}
