//go:build !linux || !(amd64 || arm64)

package sandbox

import "os/exec"

// Enter always fails here: a build must not run unconfined.
func Enter(memoryBytes int64) error { return ErrUnsupported }

// Prepare does nothing here: no build starts.
func Prepare(cmd *exec.Cmd) {}
