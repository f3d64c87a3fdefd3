// Package githubstatus posts commit statuses on GitHub, GitHub Enterprise
// and GitHub-compatible forges (Gitea, Forgejo) with context
// syncgate/<cluster>/<namespace>, skipping a post when the latest status of
// that context already says the same, and telling the outbox which failures
// to retry (rate limits, 5xx) and which to report once (credentials,
// unknown repository).
package githubstatus
