// Package priority keeps background work out of the way of syncs. A sync
// holds the Gate while it fetches, renders, applies and records a commit
// (not while it waits for pods to become ready, nor in the pauses between
// failed writes of its record); pull request previews wait at the Gate
// before each of their steps, so a sync that starts while
// previews are queued or running shares the CPU, the API server and the
// clone's lock with at most the preview steps already under way, and
// previews resume when no sync is at work.
//
// Begin never blocks: a sync is never delayed by the Gate, only previews.
// A step that holds what a sync needs at once (the clone, over a fetch's
// network round trip) runs as a Step: it is cancelled when a sync begins,
// to be made again once the sync is done. A nil *Gate never holds anything
// back.
package priority

import (
	"context"
	"errors"
	"sync"
)

// ErrGaveWay is the cause of a Step's context ending because a sync began.
var ErrGaveWay = errors.New("gave way to a sync")

// Gate is held by syncs at work and waited at by previews.
type Gate struct {
	mu   sync.Mutex
	busy int
	// free is closed when busy drops to 0, and replaced when it rises.
	free    chan struct{}
	waiting int
	// steps are the Steps under way, each cancelled when a sync begins.
	steps map[int]context.CancelCauseFunc
	next  int
}

// New makes a Gate no sync holds.
func New() *Gate {
	free := make(chan struct{})
	close(free)
	return &Gate{free: free}
}

// Begin marks a sync at work until end is called; calling end again does
// nothing. It never blocks.
func (g *Gate) Begin() (end func()) {
	if g == nil {
		return func() {}
	}
	g.mu.Lock()
	if g.busy == 0 {
		g.free = make(chan struct{})
	}
	g.busy++
	for id, cancel := range g.steps {
		cancel(ErrGaveWay)
		delete(g.steps, id)
	}
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.busy--
			if g.busy == 0 {
				close(g.free)
			}
		})
	}
}

// Wait returns nil once no sync is at work, or ctx's error when it ends
// first.
func (g *Gate) Wait(ctx context.Context) error {
	if g == nil {
		return ctx.Err()
	}
	for {
		g.mu.Lock()
		if g.busy == 0 {
			g.mu.Unlock()
			return ctx.Err()
		}
		free := g.free
		g.waiting++
		g.mu.Unlock()
		select {
		case <-free:
		case <-ctx.Done():
		}
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Step waits as Wait does, then returns a context for one step that ends,
// with the cause ErrGaveWay, as soon as a sync begins; done must be called
// when the step is over. A caller whose step ended for ErrGaveWay (and not
// for ctx) makes it again with a new Step.
func (g *Gate) Step(ctx context.Context) (step context.Context, done func(), err error) {
	if err := g.Wait(ctx); err != nil {
		return nil, func() {}, err
	}
	step, cancel := context.WithCancelCause(ctx)
	if g == nil {
		return step, func() { cancel(nil) }, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.busy > 0 { // a sync began since Wait returned
		cancel(ErrGaveWay)
		return step, func() {}, nil
	}
	if g.steps == nil {
		g.steps = map[int]context.CancelCauseFunc{}
	}
	id := g.next
	g.next++
	g.steps[id] = cancel
	return step, func() {
		g.mu.Lock()
		delete(g.steps, id)
		g.mu.Unlock()
		cancel(nil)
	}, nil
}

// GaveWay reports whether step, from Step, ended because a sync began.
func GaveWay(step context.Context) bool {
	return step != nil && errors.Is(context.Cause(step), ErrGaveWay)
}

// Free is closed once no sync is at work: at once when none is now. A
// sync that begins after it closed is not told: ask Busy, or Free again.
func (g *Gate) Free() <-chan struct{} {
	if g == nil {
		free := make(chan struct{})
		close(free)
		return free
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.free
}

// Busy reports whether a sync is at work.
func (g *Gate) Busy() bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.busy > 0
}

// Waiting is how many callers of Wait are held back now.
func (g *Gate) Waiting() int {
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}
