// Package githubdeploy reports each commit's rollout as a GitHub deployment
// of the namespace's environment: one deployment per commit and environment
// (looked up by sha and environment before one is created, so a replay
// never makes a second), with statuses queued → in_progress → success |
// failure, or inactive for a commit superseded before it applied. A
// commit begun again (a rollback) gets a new one, even when only its
// outcome is reported: each deployment's payload names the attempt it was
// made for (deployment.Again).
package githubdeploy
