package render

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Without the build program nothing is built: the error names the program
// and is not the commit's fault. By default the program is the one beside
// this executable (the image ships syncgate-render beside syncgate).
func TestNoBuildProgramNoBuild(t *testing.T) {
	missing := filepath.Join(t.TempDir(), ProgramName)
	r, err := New(Options{Cluster: "prod", Scoper: noScoper{}, BuildProgram: missing})
	require.NoError(t, err)
	tree := fstest.MapFS{"team/kustomization.yaml": {Data: []byte("resources: []\n")}}
	_, err = r.Render(tree, "team")
	require.ErrorContains(t, err, missing)
	var re *Error
	require.False(t, errors.As(err, &re))

	r, err = New(Options{Cluster: "prod", Scoper: noScoper{}})
	require.NoError(t, err)
	self, err := os.Executable()
	require.NoError(t, err)
	require.Equal(t, filepath.Join(filepath.Dir(self), "syncgate-render"), r.program)
}

type noScoper struct{}

func (noScoper) IsNamespaced(schema.GroupVersionKind) (bool, error) { return true, nil }

// Killing a build kills what it started too: a program that is not the
// build program may leave a child behind, holding the build's pipes.
func TestKillEndsTheBuildsGroup(t *testing.T) {
	program := filepath.Join(t.TempDir(), "forks")
	require.NoError(t, os.WriteFile(program, []byte("#!/bin/sh\nsleep 60 &\necho $! >&4\nexec sleep 60\n"), 0o755))
	proc, err := startBuild(program, Limits{}.withDefaults())
	require.NoError(t, err)
	line, err := bufio.NewReader(proc.closers[0].(io.Reader)).ReadString('\n')
	require.NoError(t, err)
	child := strings.TrimSpace(line)
	proc.kill("timeout")
	require.Error(t, proc.wait())
	require.Eventually(t, func() bool {
		stat, err := os.ReadFile("/proc/" + child + "/stat")
		if err != nil {
			return true // reaped
		}
		f := strings.Fields(string(stat)) // pid (comm) state: a zombie is dead
		return len(f) > 2 && f[2] == "Z"
	}, 10*time.Second, 10*time.Millisecond, "the build's child %s still runs", child)
}
