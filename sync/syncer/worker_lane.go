package syncer

import (
	"context"
	"sync"

	"github.com/syncgate/syncgate/sync/priority"
)

// recordWidth bounds the unchanged namespaces' records in flight at once.
// Each is one status write; all of them at once (99 with 100 namespaces)
// queue at the API server together, so none lands before nearly all do,
// and a changed namespace's requests wait behind them.
const recordWidth = 8

// lane lets at most width records through at once, and one while busy
// (Syncer.changed) is held: a namespace whose inputs changed is being
// sorted, applied or recorded, and its requests go first.
type lane struct {
	width int
	busy  *priority.Gate

	mu       sync.Mutex
	inFlight int
	freed    chan struct{} // closed when a record leaves, then replaced
}

func newLane(width int, busy *priority.Gate) *lane {
	return &lane{width: width, busy: busy, freed: make(chan struct{})}
}

// enter waits for a place in the lane, or until ctx ends; leave gives the
// place back (calling it again does nothing).
func (l *lane) enter(ctx context.Context) (leave func(), err error) {
	for {
		narrow := l.busy.Busy()
		width := l.width
		if narrow {
			width = 1
		}
		l.mu.Lock()
		if l.inFlight < width {
			l.inFlight++
			l.mu.Unlock()
			var once sync.Once
			return func() { once.Do(l.leave) }, nil
		}
		freed := l.freed
		l.mu.Unlock()
		var widened <-chan struct{}
		if narrow {
			widened = l.busy.Free()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-freed:
		case <-widened:
		}
	}
}

func (l *lane) leave() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	close(l.freed)
	l.freed = make(chan struct{})
}
