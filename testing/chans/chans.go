// Package chans holds the channel steps tests share: a receive that fails
// the test when nothing arrives, and a send that never blocks.
package chans

import (
	"testing"
	"time"
)

// Limit is how long Recv waits: long enough for a loaded machine, short
// enough that a broken test fails instead of reaching the test timeout.
const Limit = 30 * time.Second

// Recv is the next value from ch. The test fails, naming what it waited
// for, when none arrives within Limit.
func Recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(Limit):
		t.Fatalf("timed out waiting for %s", what)
	}
	panic("unreachable")
}

// Offer sends v when ch has room and drops it otherwise.
func Offer[T any](ch chan<- T, v T) {
	select {
	case ch <- v:
	default:
	}
}
