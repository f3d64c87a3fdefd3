package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes of the CLI, as README.md documents them for `syncgate wait`;
// `syncgate preview` reads 0 and 1 as valid and refused, and
// ci-examples/bin/wait-curl.sh exits with the same codes.
const (
	exitDeployed = 0
	exitFailed   = 1
	exitTimeout  = 2
	exitUsage    = 3
)

// exitError carries an exit code out of a cobra command.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageFlags makes a flag of cmd that does not parse a usage error (exit
// 3), told in one line naming the flag, before the command begins.
func usageFlags(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		var bad *pflag.InvalidValueError
		if errors.As(err, &bad) {
			return &exitError{code: exitUsage, msg: fmt.Sprintf("--%s: %v", bad.GetFlag().Name, bad.Unwrap())}
		}
		return &exitError{code: exitUsage, msg: err.Error()}
	})
}

// timeoutFlag adds --timeout to a subcommand that gives up after it (exit
// 2), read as `syncgate run` reads its durations (durationValue): a
// positive number of seconds or a Go duration, at most a year. Anything
// else, 0 included, is a usage error at once, the same one from every
// subcommand; wait-curl.sh judges its TIMEOUT (seconds) by the same rule,
// which TestWaitScriptJudgesAsTheBinary in testing/e2e holds it to.
func timeoutFlag(cmd *cobra.Command, p *time.Duration, def time.Duration) {
	*p = def
	cmd.Flags().Var(duration(p), "timeout", "give up after this long (exit 2): seconds (900) or a Go duration (15m), more than 0, at most a year")
	usageFlags(cmd)
}
