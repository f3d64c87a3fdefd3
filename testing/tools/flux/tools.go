//go:build tools

// Package flux pins Flux's kustomize-controller, built for the benchmarks
// that time it side by side with syncgate (bench/flux).
package flux

import _ "github.com/fluxcd/kustomize-controller"
