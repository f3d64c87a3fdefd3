// Package gitlabdeploy reports each commit's rollout as a deployment of the
// namespace's GitLab environment, created on first use with its external
// URL: one deployment per commit, found again by the id kept at the
// commit's last report (status.Keeper) however many came after it, moving
// created → running → success | failed, or canceled for a commit
// superseded before it applied. A commit begun again (a rollback) gets a
// new deployment, as GitLab's own redeploys do, even when only its outcome
// is reported: the reference kept names the attempt the deployment was
// made for (Kept), so a report of a later attempt gets a new one and a late
// report of an earlier attempt posts nothing (deployment.Again, Earlier),
// whatever the clocks. With no reference kept, or a bare id kept before the
// attempt was, one created before the attempt began, in the agent's clock
// as the forge's Date tells it, was another attempt's.
package gitlabdeploy
