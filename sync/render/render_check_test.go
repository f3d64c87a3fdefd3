package render_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/render"
)

// The build program is checked by a handshake, confined as for a build:
// this test binary serves builds (TestMain), so it passes; a program that
// is missing, ends without answering, is of an older protocol or answers
// with another version fails, in one line naming it.
func TestCheckBuildProgram(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	require.NoError(t, render.CheckBuildProgram(context.Background(), render.Options{BuildProgram: self}))

	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
		return p
	}
	cases := []struct{ name, program, want string }{
		{"missing", filepath.Join(dir, render.ProgramName), "not found"},
		{"silent", script("silent", "exit 0"), "ended without answering the handshake (exit status 0)"},
		{"failing", script("failing", "echo 'cannot run here' >&2; exit 1"), "ended without answering the handshake (exit status 1: cannot run here)"},
		{"older", script("older", "exit 4"), `does not speak protocol "1"`},
		{"unconfined", script("unconfined", "echo 'render sandbox: no seccomp' >&2; exit 3"), "cannot confine itself: render sandbox: no seccomp"},
		{"other version", script("other", `printf 'H\000\000\000\0019' >&4`), `speaks protocol "9", this agent "1"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := render.CheckBuildProgram(context.Background(), render.Options{BuildProgram: c.program})
			require.ErrorContains(t, err, "the kustomize build program "+c.program+": "+c.want)
			require.NotContains(t, err.Error(), "\n")
		})
	}
}

// A program that never answers, and whose child keeps its ends of the
// pipes open, is killed with its child when the handshake times out: the
// check ends, saying why, instead of waiting on the child.
func TestCheckBuildProgramHangs(t *testing.T) {
	render.SetCheckTime(t, 200*time.Millisecond)
	program := filepath.Join(t.TempDir(), "hangs")
	require.NoError(t, os.WriteFile(program, []byte("#!/bin/sh\nsleep 60 &\nexec sleep 60\n"), 0o755))
	errs := make(chan error, 1)
	go func() { errs <- render.CheckBuildProgram(context.Background(), render.Options{BuildProgram: program}) }()
	select {
	case err := <-errs:
		require.EqualError(t, err, "the kustomize build program "+program+": no answer to the handshake within 200ms")
	case <-time.After(20 * time.Second):
		t.Fatal("the check still waits on the program's child")
	}
}
