package render_test

import (
	"os"
	"testing"

	"github.com/syncgate/syncgate/sync/render/buildproc"
)

// TestMain lets this test binary run kustomize builds: the renderers of
// these tests start it again as their build program (buildProgram), so
// the builds run the code of cmd/syncgate-render.
func TestMain(m *testing.M) {
	if code, ran := buildproc.Serve(); ran {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
