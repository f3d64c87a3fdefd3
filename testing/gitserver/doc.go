// Package gitserver serves bare git repositories for tests and the demo over
// real protocols: smart HTTP through git's own http-backend (optionally
// behind basic auth) and SSH through a real OpenSSH sshd with generated host
// and client keys. Repo gives a working clone to commit and push with.
package gitserver
