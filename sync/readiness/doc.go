// Package readiness waits until applied objects are up, judged by kstatus
// from watch events once their controllers observed the applied generation,
// and fails fast when a rollout cannot succeed: a progress deadline exceeded,
// or pods of the new revision crash-looping, failing to pull their image or
// misconfigured.
package readiness
