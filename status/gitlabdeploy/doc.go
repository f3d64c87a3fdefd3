// Package gitlabdeploy reports each commit's rollout as a deployment of the
// namespace's GitLab environment, created on first use with its external
// URL: one deployment per commit, found again by the id kept at the
// commit's last report (status.Keeper) however many came after it, moving
// created → running → success | failed, or canceled for a commit
// superseded before it applied. A commit begun again (a rollback) gets a
// new deployment, as GitLab's own redeploys do, even when only its outcome
// is reported: one created before the attempt began, in the agent's clock
// as the forge's Date tells it, was another attempt's (deployment.Again).
package gitlabdeploy
