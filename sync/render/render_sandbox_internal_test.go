package render

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// A program whose main does not call RunSandbox builds nothing: the
// error says why and is not the commit's fault.
func TestNoSandboxNoBuild(t *testing.T) {
	sandboxReady.Store(false)
	defer sandboxReady.Store(true)
	r, err := New(Options{Cluster: "prod", Scoper: noScoper{}})
	require.NoError(t, err)
	tree := fstest.MapFS{"team/kustomization.yaml": {Data: []byte("resources: []\n")}}
	_, err = r.Render(tree, "team")
	require.ErrorContains(t, err, "render.RunSandbox")
	var re *Error
	require.False(t, errors.As(err, &re))
}

type noScoper struct{}

func (noScoper) IsNamespaced(schema.GroupVersionKind) (bool, error) { return true, nil }
