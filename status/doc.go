// Package status holds the lifecycle of one commit in one namespace (State,
// Update), the Reporter interface every CI channel implements, and the fan-out
// and durable outbox that deliver each owed report exactly once in meaning.
package status
