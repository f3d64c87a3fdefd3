// Package readiness waits until applied objects are really up, judged by
// kstatus from watch events (generation observed, rollout complete), and
// fails fast when a rollout cannot succeed: a progress deadline exceeded or
// the new pods crash-looping, failing to pull, or misconfigured.
package readiness
