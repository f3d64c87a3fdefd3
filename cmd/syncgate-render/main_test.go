package main_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/syncgate/syncgate/sync/render"
)

type namespaced struct{}

func (namespaced) IsNamespaced(schema.GroupVersionKind) (bool, error) { return true, nil }

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// The program the agent starts is the one that confines itself: built as
// the image builds it, it builds a kustomization, its heap stops at the
// limit, and a URL in the commit is not fetched.
func TestTheProgramBuildsConfined(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	program := buildProgram(t)
	renderer := func(lim render.Limits) *render.Renderer {
		r, err := render.New(render.Options{Cluster: "prod", Scoper: namespaced{}, Limits: lim, BuildProgram: program})
		require.NoError(t, err)
		return r
	}

	objs, err := renderer(render.Limits{}).Render(fstest.MapFS{
		"team/kustomization.yaml": file("configMapGenerator: [{name: app, literals: [a=b]}]\n"),
	}, "team")
	require.NoError(t, err)
	require.Len(t, objs, 1)

	big := fstest.MapFS{}
	var files []string
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("f%02d.txt", i)
		big["team/"+name] = file(strings.Repeat("x", 1<<20))
		files = append(files, name)
	}
	big["team/kustomization.yaml"] = file("configMapGenerator: [{name: big, files: [" + strings.Join(files, ", ") + "]}]\n")
	_, err = renderer(render.Limits{BuildMemory: 160 << 20}).Render(big, "team")
	require.ErrorIs(t, err, render.ErrTooLarge)
	require.ErrorContains(t, err, "memory limit of 160 MiB")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, err = renderer(render.Limits{}).Render(fstest.MapFS{
		"team/kustomization.yaml": file("generators: [gen.yaml]\n"),
		"team/gen.yaml": file("apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: leak}\n" +
			"files: [\"creds=http://" + ln.Addr().String() + "/latest/meta-data/\"]\n"),
	}, "team")
	require.ErrorIs(t, err, render.ErrRemoteBase)
	var re *render.Error
	require.True(t, errors.As(err, &re))
	require.Equal(t, "team/gen.yaml", re.File)
	// Connections queue in order: the first accepted is this marker's
	// unless the build connected before it.
	marker, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer marker.Close()
	first, err := ln.Accept()
	require.NoError(t, err)
	defer first.Close()
	require.Equal(t, marker.LocalAddr().String(), first.RemoteAddr().String(), "the build reached the network")
}

// buildProgram builds this program as the image builds it.
func buildProgram(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-tags", "nomsgpack", "-o", dir+string(filepath.Separator), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return filepath.Join(dir, render.ProgramName)
}

// Run by hand, it says what it is for and builds nothing.
func TestByHand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	out, err := exec.Command(buildProgram(t)).CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, 2, ee.ExitCode())
	require.Contains(t, string(out), "not run by hand")
}
