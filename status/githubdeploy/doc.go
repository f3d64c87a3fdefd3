// Package githubdeploy reports each commit's rollout as a GitHub deployment
// of the namespace's environment: one deployment per commit and environment
// (looked up by sha and environment before one is created, so a replay
// never makes a second), with statuses queued → in_progress → success |
// failure, or inactive for a commit superseded before it applied. A
// commit deployed again (a rollback) after its deployment ended gets a new
// one, even when only its outcome is reported (deployment.Again).
package githubdeploy
