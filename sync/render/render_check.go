package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"time"

	"github.com/syncgate/syncgate/sync/render/internal/wire"
)

// checkTime bounds the handshake: starting the program takes about 10 ms.
var checkTime = 10 * time.Second

// CheckBuildProgram starts the build program a Renderer of opts would
// start (Options.BuildProgram, or ProgramName beside this executable),
// confined as for a build, and asks which protocol it speaks. It fails,
// in one line, when the program is missing, cannot start or confine
// itself, or speaks another version: every kustomization would then fail,
// and not as the commit's fault, so an agent checks it at start.
func CheckBuildProgram(ctx context.Context, opts Options) error {
	program, err := buildProgram(opts)
	if err == nil {
		err = handshake(ctx, program, opts.Limits.withDefaults())
	}
	if err != nil {
		return fmt.Errorf("the kustomize build program %s: %w", program, err)
	}
	return nil
}

func handshake(ctx context.Context, program string, lim Limits) error {
	proc, err := startBuild(program, lim)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("not found (%w); it ships beside syncgate", err)
		}
		return fmt.Errorf("cannot start: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, checkTime)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { proc.kill("handshake") })
	// A program that ended before reading the Hello may still have answered,
	// and otherwise is told by how it ended: the answer is read whether
	// the Hello was sent or not.
	_ = proc.conn.Send(wire.Hello, []byte(wire.Protocol))
	typ, answer, err := proc.conn.Read(func(byte) int64 { return wire.MaxRequest })
	stop()
	ended := proc.wait()
	// An answer read is the verdict, even when the timer ran out after it.
	switch {
	case err == nil && typ == wire.Hello && string(answer) == wire.Protocol:
		return nil
	case err == nil && typ == wire.Hello:
		return fmt.Errorf("speaks protocol %.20q, this agent %q: ship the two of one build", answer, wire.Protocol)
	case err == nil:
		return fmt.Errorf("answered the handshake with a frame %q, not protocol %q", typ, wire.Protocol)
	case proc.killReason() != "":
		return fmt.Errorf("no answer to the handshake within %s", checkTime)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(ended, &ee) && ee.ExitCode() == wire.ExitNoSandbox:
		return fmt.Errorf("cannot confine itself: %s", firstLine(proc.output.String()))
	case errors.As(ended, &ee) && ee.ExitCode() == wire.ExitProtocol:
		return fmt.Errorf("does not speak protocol %q (%v)", wire.Protocol, ended)
	}
	why := "exit status 0"
	if ended != nil {
		why = ended.Error()
	}
	if out := firstLine(proc.output.String()); out != "" {
		why += ": " + out
	}
	return fmt.Errorf("ended without answering the handshake (%s)", why)
}

// firstLine is the first line of s with text, bounded.
func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > 200 {
				line = line[:200] + "…"
			}
			return line
		}
	}
	return ""
}
