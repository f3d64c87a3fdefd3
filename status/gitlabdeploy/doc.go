// Package gitlabdeploy reports each commit's rollout as a deployment of the
// namespace's GitLab environment, created on first use with its external
// URL: one deployment per commit, looked up before one is created, moving
// created → running → success | failed, or canceled for a commit
// superseded before it applied.
package gitlabdeploy
