// Package demo runs syncgate's whole journey on one machine: a local control
// plane, a git server holding the sample config repo from ci-examples, an S3
// server, `syncgate run` against them, and a pushed image bump that
// `syncgate wait` follows until it is deployed. `make demo` runs it and keeps
// it up for exploring; a test runs it to the end without a terminal.
package demo
