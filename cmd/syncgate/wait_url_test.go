package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
)

// runWait runs `syncgate wait` with args and returns its exit error and
// what it printed on stdout and stderr.
func runWait(t *testing.T, args ...string) (*exitError, string, string) {
	t.Helper()
	return runCmd(t, newWaitCmd(), args...)
}

// runCmd runs a command that must end with an exit error.
func runCmd(t *testing.T, cmd *cobra.Command, args ...string) (*exitError, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	var ex *exitError
	require.True(t, errors.As(err, &ex), "%v", err)
	return ex, out.String(), errOut.String()
}

// A --url that can never work, or a --timeout that leaves no time to
// wait, is a usage error (exit 3) told at once in one line, not a timeout.
func TestWaitUsageErrorsExitAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		says string
	}{
		{"no scheme", []string{"--url", "notaurl"}, `"notaurl" is not a syncgate URL`},
		{"not http", []string{"--url", "ftp://example"}, `"ftp://example" is not a syncgate URL`},
		{"no host", []string{"--url", "http:///wait"}, "no host"},
		{"one of several", []string{"--url", "http://127.0.0.1:1", "--url", "syncgate.example.com"}, `"syncgate.example.com" is not a syncgate URL`},
		{"zero timeout", []string{"--url", "http://127.0.0.1:1", "--timeout", "0"}, `--timeout: "0" is not a positive number of seconds`},
		{"negative timeout", []string{"--url", "http://127.0.0.1:1", "--timeout", "-5s"}, `--timeout: "-5s" is not a positive number of seconds`},
		{"zero timeout with --s3", []string{"--s3", "s3://markers/ci", "--cluster", "prod", "--namespace", "web", "--timeout", "0s"}, `--timeout: "0s" is not a positive number of seconds`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			args := append([]string{strings.Repeat("ab", 20)}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "--timeout") {
				args = append(args, "--timeout", "30s")
			}
			ex, _, _ := runWait(t, args...)
			require.Equal(t, exitUsage, ex.code, ex.msg)
			require.Contains(t, ex.msg, tc.says)
			require.NotContains(t, ex.msg, "\n")
			require.Less(t, time.Since(start), 10*time.Second, "at once, not at the timeout")
		})
	}
}

// A gateway that refuses connections is asked again until the timeout
// (exit 2), but why is printed on stderr as it happens and in the final
// line.
func TestWaitTellsWhyTheGatewayIsNotAnswering(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	u := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	ex, _, errOut := runWait(t, "abcdef1", "--url", u, "--timeout", "2s", "--quiet")
	require.Equal(t, exitTimeout, ex.code, ex.msg)
	require.Contains(t, ex.msg, "last error: dial tcp "+l.Addr().String())
	require.Contains(t, ex.msg, "connection refused")
	require.Contains(t, errOut, "abcdef1 on "+u+": dial tcp")
	require.Equal(t, 1, strings.Count(errOut, "(asking again)"), "told once, not once a try: %q", errOut)
}

// A web server that is not syncgate (an HTML 404) is told as such, exit 3,
// once its answers lasted a quarter of the timeout (a minute at most), not
// at the end of it.
func TestWaitOnAWebServerThatIsNotSyncgate(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	start := time.Now()
	ex, _, _ := runWait(t, "abcdef1", "--url", srv.URL, "--timeout", "20s")
	require.Equal(t, exitUsage, ex.code, ex.msg)
	require.Equal(t, srv.URL+" is not a syncgate agent: GET /wait/abcdef1 answered 404 text/plain", ex.msg)
	require.Less(t, time.Since(start), 20*time.Second)
}
