// Package githubstatus posts commit statuses on GitHub (and GitHub
// Enterprise, Gitea, Forgejo) with context syncgate/<cluster>/<namespace>,
// skipping a post when the latest status already says the same.
package githubstatus
