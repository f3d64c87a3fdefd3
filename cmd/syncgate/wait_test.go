package main

import (
	"context"
	"errors"
	"io"
	"strings"
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
	cmd := newWaitCmd()
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetArgs([]string{strings.Repeat("ab", 20), "--s3", "s3://no-such-bucket/ci", "--s3-endpoint", srv.Endpoint(),
		"--cluster", "prod", "--namespace", "web", "--timeout", "30s"})
	start := time.Now()
	err := cmd.ExecuteContext(context.Background())
	var ex *exitError
	require.True(t, errors.As(err, &ex), "%v", err)
	require.Equal(t, exitUsage, ex.code, ex.msg)
	require.Contains(t, ex.msg, "NoSuchBucket")
	require.NotContains(t, ex.msg, "\n")
	require.Less(t, time.Since(start), 15*time.Second, "not at the 30 s timeout")
}
