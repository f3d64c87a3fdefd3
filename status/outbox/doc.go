// Package outbox makes CI reports durable: each owed report is recorded in
// the Version status in the same write as the transition it tells of, and
// delivered afterwards with backoff, so a crash or restart loses none and a
// delivered one is cleared.
package outbox
