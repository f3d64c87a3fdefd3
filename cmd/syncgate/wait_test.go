package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/s3server"
)

// `syncgate wait --s3` on a bucket that does not exist exits 3 at once with
// one line saying so, instead of 2 once --timeout has passed.
func TestWaitS3OnAMissingBucketIsAConfigurationError(t *testing.T) {
	srv := s3server.StartT(t, s3server.Options{})
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	start := time.Now()
	ex := waitS3Exit(t, io.Discard, "s3://no-such-bucket/ci", srv.Endpoint(), "30s")
	require.Equal(t, exitUsage, ex.code, ex.msg)
	require.Contains(t, ex.msg, "NoSuchBucket")
	require.NotContains(t, ex.msg, "\n")
	require.Less(t, time.Since(start), 15*time.Second, "not at the 30 s timeout")
}

// A gateway still fetching to look for the sha (408, state fetching) is
// asked again: `syncgate wait` says so and, when its timeout comes first,
// exits 2 (timed out), never 3 (unknown sha).
func TestWaitOnAShaStillBeingFetchedTimesOut(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if asked.Add(1) > 1 {
			<-r.Context().Done() // the fetch goes on past the wait's timeout
			return
		}
		w.WriteHeader(http.StatusRequestTimeout)
		_, _ = w.Write([]byte(`{"sha":"abcdef1","state":"fetching","cluster":"prod","retry":true,"reason":"abcdef1 is not known yet: a fetch of the config repo looking for it is under way; retry"}`))
	}))
	defer srv.Close()
	var out strings.Builder
	cmd := newWaitCmd()
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs([]string{"abcdef1", "--url", srv.URL, "--timeout", "2s"})
	err := cmd.ExecuteContext(context.Background())
	var ex *exitError
	require.True(t, errors.As(err, &ex), "%v", err)
	require.Equal(t, exitTimeout, ex.code, ex.msg)
	require.Contains(t, ex.msg, `last state "fetching"`)
	require.Contains(t, out.String(), "abcdef1 on prod: not known yet, syncgate is fetching the config repo to look for it")
	require.GreaterOrEqual(t, asked.Load(), int32(2), "asked again after the 408")
}
