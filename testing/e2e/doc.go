// Package e2e runs syncgate as users do, against the real local control
// plane, a real git server and a real S3 server: the binary is built, started
// with environment settings, fed commits, and asked through /wait, the CLI,
// the ci-examples scripts, the Version resource and S3.
package e2e
