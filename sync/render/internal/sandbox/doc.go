// Package sandbox confines the process it runs in for an untrusted build:
// no sockets, no programs, a hard memory ceiling. It holds the raw system
// calls (prctl, seccomp, setrlimit) so render itself needs none; Linux on
// amd64 and arm64 only, elsewhere Enter fails and no build runs.
package sandbox
