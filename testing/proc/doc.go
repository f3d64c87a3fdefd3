// Package proc runs the helper processes of tests and the demo (control
// plane, sshd, S3 server, syncgate itself) in their own process groups, so a
// stop reaches every child and nothing outlives the test binary.
//
// It also picks free loopback ports for processes that take theirs as an
// argument (FreePorts, FreeAddr).
package proc
