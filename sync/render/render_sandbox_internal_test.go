package render

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

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
