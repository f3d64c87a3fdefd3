package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
)

// Every subcommand with a --timeout judges it alike: not more than 0, more
// than a year, or not a duration at all is a usage error (exit 3) told at
// once in one line naming the flag, the same line from each; a bare number
// is seconds, as wait-curl.sh's TIMEOUT is.
func TestEverySubcommandJudgesTimeoutAlike(t *testing.T) {
	unreachable := "http://127.0.0.1:1"
	commands := map[string]func() (*cobra.Command, []string){
		"wait": func() (*cobra.Command, []string) { return newWaitCmd(), []string{"abcdef1", "--url", unreachable} },
		"wait s3": func() (*cobra.Command, []string) {
			return newWaitCmd(), []string{strings.Repeat("ab", 20), "--s3", "s3://markers/ci", "--cluster", "prod", "--namespace", "web"}
		},
		"preview": func() (*cobra.Command, []string) {
			return newPreviewCmd(), []string{strings.Repeat("ab", 20), "--url", unreachable}
		},
	}
	for _, tc := range []struct{ timeout, says string }{
		{"0", `--timeout: "0" is not a positive number of seconds or a Go duration`},
		{"0s", `--timeout: "0s" is not a positive number of seconds or a Go duration`},
		{"-5s", `--timeout: "-5s" is not a positive number of seconds or a Go duration`},
		{"-5", `--timeout: "-5" is not a positive number of seconds or a Go duration`},
		{"1.5", `--timeout: "1.5" is not a positive number of seconds or a Go duration`},
		{"soon", `--timeout: "soon" is not a positive number of seconds or a Go duration`},
		{"8761h", `--timeout: "8761h" is more than 8760h (a year)`},
		{"31536001", `--timeout: "31536001" is more than 8760h (a year)`},
		{"99999999999999999999", `--timeout: "99999999999999999999" is more than 8760h (a year)`},
	} {
		for name, newCmd := range commands {
			t.Run(name+" "+tc.timeout, func(t *testing.T) {
				cmd, args := newCmd()
				ex := runBounded(t, cmd, append(args, "--timeout", tc.timeout)...)
				require.Equal(t, exitUsage, ex.code, ex.msg)
				require.Equal(t, tc.says, ex.msg)
			})
		}
	}
	for name, newCmd := range commands {
		if name == "wait s3" {
			continue // needs an S3 endpoint to time out on
		}
		t.Run(name+" bare seconds", func(t *testing.T) {
			cmd, args := newCmd()
			start := time.Now()
			ex := runBounded(t, cmd, append(args, "--timeout", "1")...)
			require.Equal(t, exitTimeout, ex.code, ex.msg)
			require.Less(t, time.Since(start), 8*time.Second, "1 is a second")
		})
	}
}

// runBounded runs a command that must end with an exit error within 10 s:
// a usage error is told at once, never at the end of a timeout.
func runBounded(t *testing.T, cmd *cobra.Command, args ...string) *exitError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	var ex *exitError
	require.True(t, errors.As(err, &ex), "%v", err)
	return ex
}
