package render

// BuildsInFlight is how many kustomize build slots of r are taken, for
// tests that wait on a build having started.
func BuildsInFlight(r *Renderer) int { return len(r.builds) }
