package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/sync/kinds"
)

const emptyV2 = `{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","metadata":{},"items":[]}`

// discoveryServer answers discovery with status code codes[i] at its i-th
// request (the last code for the rest), a 200 being aggregated discovery v2.
func discoveryServer(t *testing.T, codes ...int) (load func(context.Context) error, requests *atomic.Int32) {
	requests = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := codes[min(int(requests.Add(1))-1, len(codes)-1)]
		w.Header().Set("Content-Type", "application/json")
		if code != http.StatusOK {
			w.WriteHeader(code)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","code":` + strconv.Itoa(code) + `}`))
			return
		}
		w.Header().Set("Content-Type", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
		_, _ = w.Write([]byte(emptyV2))
	}))
	t.Cleanup(srv.Close)
	m, err := kinds.New(&rest.Config{Host: srv.URL})
	require.NoError(t, err)
	return m.Load, requests
}

var quickPatience = discoveryPatience{first: time.Millisecond, max: 2 * time.Millisecond, total: 50 * time.Millisecond}

// An API server whose discovery syncgate cannot read stops start-up, in
// one line saying why; one not answering yet is asked again, and after a
// while start-up goes on without it.
func TestLoadKindsAtStart(t *testing.T) {
	for _, c := range []struct {
		name  string
		codes []int
		want  string
	}{
		{"older than 1.27", []int{http.StatusNotAcceptable}, "kubernetes discovery: discover /api: the API server does not serve aggregated discovery (apidiscovery.k8s.io v2 or v2beta1): Kubernetes 1.27 or later is needed"},
		{"refusing syncgate", []int{http.StatusForbidden}, "kubernetes discovery: discover /api: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			load, _ := discoveryServer(t, c.codes...)
			err := loadKinds(context.Background(), load, quickPatience, slog.New(slog.DiscardHandler))
			var ex *exitError
			require.True(t, errors.As(err, &ex), "%v", err)
			require.Equal(t, exitUsage, ex.code)
			require.True(t, strings.HasPrefix(ex.msg, c.want), ex.msg)
			require.NotContains(t, ex.msg, "\n")
		})
	}

	t.Run("starting", func(t *testing.T) {
		load, requests := discoveryServer(t, http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusOK)
		patience := quickPatience
		patience.total = time.Minute
		require.NoError(t, loadKinds(context.Background(), load, patience, slog.New(slog.DiscardHandler)))
		require.EqualValues(t, 4, requests.Load(), "/api twice refused, then /api and /apis")
	})

	t.Run("not reachable", func(t *testing.T) {
		load, requests := discoveryServer(t, http.StatusServiceUnavailable)
		var logs bytes.Buffer
		require.NoError(t, loadKinds(context.Background(), load, quickPatience, slog.New(slog.NewTextHandler(&logs, nil))))
		require.Greater(t, requests.Load(), int32(1))
		require.Contains(t, logs.String(), "kubernetes discovery not reachable at start; it loads at the first apply")
	})
}
