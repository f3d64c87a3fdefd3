// Package status holds the lifecycle of one commit in one namespace (State,
// Update), the Reporter interface every CI channel implements, the errors a
// reporter returns to steer retries (Permanent, RetryAfter), and the short
// Description forges show. The outbox delivers to each reporter on its own.
package status
