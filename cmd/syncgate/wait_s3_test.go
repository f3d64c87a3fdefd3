package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/s3server"
)

// noAWSCredentials empties every place the SDK's default chain looks for
// credentials but the EC2 instance role.
func noAWSCredentials(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_REGION", "us-east-1")
}

// captureStderr sends os.Stderr, where the SDK's default logger writes, to
// a pipe until the test ends; the returned func gives what was written.
func captureStderr(t *testing.T) func() string {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	old := os.Stderr
	os.Stderr = w
	var buf bytes.Buffer
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&buf, r); close(copied) }()
	restore := func() {
		if os.Stderr == w {
			os.Stderr = old
			_ = w.Close()
			<-copied
		}
	}
	t.Cleanup(restore)
	return func() string { restore(); return buf.String() }
}

// waitS3Exit runs `syncgate wait --s3` for cluster prod, namespace web,
// and returns how it exited.
func waitS3Exit(t *testing.T, stderr io.Writer, s3URL, endpoint, timeout string) *exitError {
	t.Helper()
	cmd := newWaitCmd()
	cmd.SetOut(io.Discard)
	cmd.SetErr(stderr)
	cmd.SetArgs([]string{strings.Repeat("ab", 20), "--s3", s3URL, "--s3-endpoint", endpoint,
		"--cluster", "prod", "--namespace", "web", "--timeout", timeout})
	err := cmd.ExecuteContext(context.Background())
	var ex *exitError
	require.True(t, errors.As(err, &ex), "%v", err)
	return ex
}

// `syncgate wait --s3` with no credentials anywhere exits 3 at once in one
// line naming where it looked, instead of asking again until --timeout; the
// SDK's own log lines ("WARN falling back to IMDSv1") are not printed.
func TestWaitS3WithoutCredentialsIsAConfigurationError(t *testing.T) {
	srv := s3server.StartT(t, s3server.Options{})
	srv.BucketT(t, "markers")
	for _, tc := range []struct {
		name string
		imds func(t *testing.T)
	}{
		{"instance metadata disabled", func(t *testing.T) { t.Setenv("AWS_EC2_METADATA_DISABLED", "true") }},
		{"no instance role", func(t *testing.T) { // as an address that answers 404 to every IMDS request
			imds := httptest.NewServer(http.NotFoundHandler())
			t.Cleanup(imds.Close)
			t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noAWSCredentials(t)
			tc.imds(t)
			stderr := captureStderr(t)
			var errOut strings.Builder
			start := time.Now()
			ex := waitS3Exit(t, &errOut, "s3://markers/ci", srv.Endpoint(), "20s")
			require.Equal(t, exitUsage, ex.code, ex.msg)
			require.Contains(t, ex.msg, "no S3 credentials found")
			require.Contains(t, ex.msg, "AWS_ACCESS_KEY_ID")
			require.NotContains(t, ex.msg, "\n")
			require.Less(t, time.Since(start), 10*time.Second, "not at the 20 s timeout")
			printed := stderr() + errOut.String()
			require.NotContains(t, printed, "IMDS", "the SDK's own log lines are not printed")
		})
	}
}

// A network error reaching S3 is asked through, as the server may come
// back: the wait ends at --timeout (exit 2) telling the last error.
func TestWaitS3AsksAgainThroughANetworkError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	endpoint := "http://" + l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now: connection refused
	noAWSCredentials(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	ex := waitS3Exit(t, io.Discard, "s3://markers/ci", endpoint, "10s")
	require.Equal(t, exitTimeout, ex.code, ex.msg)
	require.Contains(t, ex.msg, "connection refused")
}
