package syncer

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/priority"
)

// waiting is how many records wait for a place.
func (l *lane) waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

// A place that frees goes to the record waiting longest, not to one that
// comes just then; before, every waiter was woken and a newcomer could
// take the place first, time after time.
func TestLaneLetsInByArrival(t *testing.T) {
	l := newLane(1, priority.New())
	ctx := context.Background()
	first, err := l.enter(ctx)
	require.NoError(t, err)
	entered := make(chan string, 2)
	waitFor := func(name string, queued int) {
		go func() {
			leave, err := l.enter(ctx)
			if err == nil {
				entered <- name
				leave()
			}
		}()
		require.Eventually(t, func() bool { return l.waiting() == queued }, 5*time.Second, time.Millisecond)
	}
	waitFor("second", 1)
	waitFor("third", 2)

	first()
	gone, cancel := context.WithCancel(ctx)
	cancel()
	_, err = l.enter(gone)
	require.ErrorIs(t, err, context.Canceled, "a newcomer took the place of those waiting")
	for _, want := range []string{"second", "third"} {
		select {
		case got := <-entered:
			require.Equal(t, want, got)
		case <-time.After(5 * time.Second):
			t.Fatalf("%s never entered", want)
		}
	}
}

// While busy is held, a record enters only once none is in flight; the
// lane widens again as soon as nobody holds busy.
func TestLaneNarrowsWhileBusy(t *testing.T) {
	busy := priority.New()
	l := newLane(3, busy)
	ctx := context.Background()
	wide, err := l.enter(ctx)
	require.NoError(t, err)
	end := busy.Begin()
	entered := make(chan func(), 1)
	go func() {
		leave, err := l.enter(ctx)
		if err == nil {
			entered <- leave
		}
	}()
	require.Eventually(t, func() bool { return l.waiting() == 1 }, 5*time.Second, time.Millisecond, "one in flight while busy")
	end()
	select {
	case leave := <-entered:
		leave()
	case <-time.After(5 * time.Second):
		t.Fatal("the lane did not widen once busy was free")
	}
	wide()
}

// A record holds its place at most maxHold: a write that hangs does not
// stop the others, and its leave after gives back nothing.
func TestLanePlaceIsHeldAtMostMaxHold(t *testing.T) {
	l := newLane(1, priority.New())
	l.maxHold = 20 * time.Millisecond
	ctx := context.Background()
	hung, err := l.enter(ctx)
	require.NoError(t, err)
	entered := make(chan func(), 1)
	go func() {
		leave, err := l.enter(ctx)
		if err == nil {
			entered <- leave
		}
	}()
	var next func()
	select {
	case next = <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("a record waited for a place held for ever")
	}
	inFlight := func() int {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.inFlight
	}
	hung()
	require.Equal(t, 1, inFlight(), "a place given back twice")
	next()
	require.Zero(t, inFlight())
}
