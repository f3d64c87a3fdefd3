//go:build tools

// Package codegen pins controller-gen.
package codegen

import _ "sigs.k8s.io/controller-tools/cmd/controller-gen"
