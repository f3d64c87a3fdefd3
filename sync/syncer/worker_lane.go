package syncer

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/syncgate/syncgate/sync/priority"
)

// recordWidth bounds the unchanged namespaces' records in flight at once.
// Each is one status write; all of them at once (99 with 100 namespaces)
// queue at the API server together, so none lands before nearly all do,
// and a changed namespace's requests wait behind them.
const recordWidth = 8

// laneHold bounds how long a record holds its place in the lane; past it
// the place goes to the next record, and the record's leave does nothing.
// A namespace whose write hangs never holds the other namespaces' records
// back for longer (before the lane, they gave way to changed namespaces as
// long).
const laneHold = 2 * time.Second

// lane lets records in by order of arrival, at most width in flight at
// once. While busy (Syncer.changed) is held, a namespace whose inputs
// changed is being sorted, applied or recorded, and the next record enters
// only when none is in flight: those that entered while the lane was wide
// (at most width) go on, and its requests meet no more than that. A record
// in flight for maxHold no longer counts.
type lane struct {
	width   int
	maxHold time.Duration
	busy    *priority.Gate

	mu       sync.Mutex
	inFlight int
	queue    []chan struct{} // the records waiting, first come first; each closed when let in
}

func newLane(width int, busy *priority.Gate) *lane {
	return &lane{width: width, maxHold: laneHold, busy: busy}
}

// enter waits for a place in the lane, or until ctx ends (err). leave gives
// the place back (calling it again, or after maxHold, does nothing).
func (l *lane) enter(ctx context.Context) (leave func(), err error) {
	l.mu.Lock()
	if len(l.queue) == 0 && l.inFlight < l.widthNow() {
		l.inFlight++
		l.mu.Unlock()
		return l.leaver(), nil
	}
	if err := ctx.Err(); err != nil {
		l.mu.Unlock()
		return nil, err
	}
	in := make(chan struct{})
	l.queue = append(l.queue, in)
	l.mu.Unlock()

	for {
		// The lane widens when nobody holds busy any more: nothing else
		// lets the waiting in then.
		l.mu.Lock()
		l.admit()
		narrow := l.busy.Busy()
		l.mu.Unlock()
		var widened <-chan struct{}
		if narrow {
			widened = l.busy.Free()
		}
		select {
		case <-in:
			return l.leaver(), nil
		case <-widened:
		case <-ctx.Done():
			if !l.withdraw(in) {
				l.leaver()()
			}
			return nil, ctx.Err()
		}
	}
}

// widthNow is how many records may be in flight now; l.mu is held.
func (l *lane) widthNow() int {
	if l.busy.Busy() {
		return 1
	}
	return l.width
}

// admit lets the first records waiting in while there is room; l.mu is
// held.
func (l *lane) admit() {
	for width := l.widthNow(); len(l.queue) > 0 && l.inFlight < width; {
		close(l.queue[0])
		l.queue = l.queue[1:]
		l.inFlight++
	}
}

// withdraw takes a record that stops waiting out of the queue; false when
// it was let in meanwhile (it holds a place then).
func (l *lane) withdraw(in chan struct{}) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := slices.Index(l.queue, in)
	if i < 0 {
		return false
	}
	l.queue = slices.Delete(l.queue, i, i+1)
	l.admit()
	return true
}

func (l *lane) leaver() func() {
	var once sync.Once
	give := func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.inFlight--
			l.admit()
		})
	}
	held := time.AfterFunc(l.maxHold, give)
	return func() {
		held.Stop()
		give()
	}
}
