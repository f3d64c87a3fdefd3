// Package status holds the lifecycle of one commit in one namespace (State,
// Update), the Reporter interface every CI channel implements, the errors a
// reporter returns to steer retries (Permanent, RetryAfter), the short
// Description forges show, and Multi, a fan-out over several reporters.
package status
