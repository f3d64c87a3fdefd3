// Package flux runs Flux's kustomize-controller on a local control plane
// (testing/cluster) for benchmarks that time it side by side with syncgate.
//
// The controller is built from the Go module proxy through the build module
// testing/tools/flux and cached by version like the control plane's
// binaries. No source-controller runs: the benchmark publishes each
// revision as a tarball on a loopback HTTP server and writes the
// GitRepository's artifact status itself, so only kustomize-controller's own
// work (fetch, build, apply, prune, health checks) is timed.
package flux
