package render

import (
	"testing"
	"time"
)

// BuildsInFlight is how many kustomize build slots of r are taken, for
// tests that wait on a build having started.
func BuildsInFlight(r *Renderer) int { return len(r.builds) }

// SetCheckTime bounds the handshake of CheckBuildProgram by d for t.
func SetCheckTime(t *testing.T, d time.Duration) {
	old := checkTime
	checkTime = d
	t.Cleanup(func() { checkTime = old })
}
