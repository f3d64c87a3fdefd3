// Package gitlabstatus sets commit statuses on GitLab (and self-managed
// instances) named syncgate/<cluster>/<namespace>: pending, running, then
// success or failed.
package gitlabstatus
