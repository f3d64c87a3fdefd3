// Package cirunner installs and runs real CI runners for tests: act (GitHub
// Actions workflows, built from the Go module proxy) and gitlab-ci-local
// (GitLab pipelines, from npm), each cached by version beside the control
// plane's binaries, both on the host with no container engine.
package cirunner
