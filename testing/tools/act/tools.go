//go:build tools

// Package act pins the act binary (GitHub Actions workflows run locally)
// that the CI building-block tests run the GitHub workflow with.
package act

import _ "github.com/nektos/act"
