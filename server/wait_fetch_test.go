package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The fetch behind an unknown sha: a failure is 503 (retry), not 404, and
// it is not cut short by the client that started it hanging up.
func TestFetchBehindAnUnknownSHA(t *testing.T) {
	t.Run("remote down", func(t *testing.T) {
		s, _, repo := newTestServer(t, nil)
		repo.fetch = func(context.Context) error { return errors.New("dial tcp 10.0.0.1:443: connect: connection refused") }
		req := httptest.NewRequest(http.MethodGet, "/wait/"+sha('e')+"?namespace=web&timeout=10ms", nil)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
		require.NotEmpty(t, rec.Header().Get("Retry-After"))
		var a answer
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a))
		require.True(t, a.Retry)
		require.Contains(t, a.Error, "connection refused")
	})
	t.Run("first client hangs up", func(t *testing.T) {
		s, _, repo := newTestServer(t, nil)
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
		close(release)
		require.Equal(t, http.StatusRequestTimeout, <-second, "the shared fetch found the sha: pending, not 404")
		require.Equal(t, 1, repo.syncs)
		require.Empty(t, started, "one fetch served both requests")
	})
	t.Run("a commit pushed while a fetch ran is found by the next, not 404", func(t *testing.T) {
		s, _, repo := newTestServer(t, func(o *Options) { o.FetchEvery = 50 * time.Millisecond })
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
		require.Eventually(t, func() bool { s.fetches.mu.Lock(); defer s.fetches.mu.Unlock(); return s.fetches.waiting == 2 }, 5*time.Second, time.Millisecond)
		close(release)
		require.Equal(t, http.StatusNotFound, <-first)
		require.Equal(t, http.StatusRequestTimeout, <-second, "pending, found by a fetch that began after the request")
		require.Equal(t, 2, repo.syncs)
	})
	t.Run("a fetch made elsewhere brings the sha: answered without waiting for the paced one", func(t *testing.T) {
		s, _, repo := newTestServer(t, func(o *Options) { o.FetchEvery = time.Hour })
		code, _ := get(t, s, "/wait/"+sha('9')+"?namespace=web&timeout=10ms")
		require.Equal(t, http.StatusNotFound, code, "the first fetch ran at once and did not find it")
		repo.push(sha('8'))
		answered := getAsync(t, s, "/wait/"+sha('8')+"?namespace=web&timeout=10ms")
		require.Eventually(t, func() bool { s.fetches.mu.Lock(); defer s.fetches.mu.Unlock(); return s.fetches.waiting == 1 }, 5*time.Second, time.Millisecond)
		repo.fetchedElsewhere() // a push webhook's fetch, an hour before the next paced one
		select {
		case code := <-answered:
			require.Equal(t, http.StatusRequestTimeout, code, "pending: found on the branch")
		case <-time.After(30 * time.Second):
			t.Fatal("the request still waits for the paced fetch an hour away")
		}
		require.Equal(t, 1, repo.syncs, "the gateway fetched once")
	})
}
