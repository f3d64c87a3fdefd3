// Package gitlabstatus sets commit statuses on GitLab and self-managed
// instances, named syncgate/<cluster>/<namespace>: pending while applying,
// running while rolling out, then success or failed. GitLab refuses some
// transitions (running → running), so the current status is read first.
package gitlabstatus
