// Package gitserver serves bare git repositories to tests and the demo over
// real protocols: smart HTTP through git's own http-backend (optionally
// behind basic auth with a token) and SSH through a real OpenSSH sshd with
// generated host and client keys and a known_hosts file. Repo is a working
// clone to commit, push, force-push and branch with.
package gitserver
