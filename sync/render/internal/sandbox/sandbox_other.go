//go:build !linux || !(amd64 || arm64)

package sandbox

import (
	"os"
	"os/exec"
	"time"
)

// Enter always fails here: a build must not run unconfined.
func Enter(memoryBytes int64, cpu time.Duration) error { return ErrUnsupported }

// Prepare does nothing here: no build starts.
func Prepare(cmd *exec.Cmd) {}

// Kill ends p.
func Kill(p *os.Process) error { return p.Kill() }

// OutOfTime is always false here.
func OutOfTime(state *os.ProcessState, cpu time.Duration) bool { return false }
