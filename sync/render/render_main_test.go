package render_test

import (
	"os"
	"testing"

	"github.com/syncgate/syncgate/sync/render"
)

// TestMain lets this test binary run kustomize builds: Render starts it
// again as a build process.
func TestMain(m *testing.M) {
	if code, ran := render.RunSandbox(); ran {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
