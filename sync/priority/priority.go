// Package priority keeps background work out of the way of syncs. A sync
// holds the Gate while it fetches, renders, applies and records a commit
// (not while it waits for pods to become ready); pull request previews
// wait at the Gate before each of their steps, so a sync that starts while
// previews are queued or running shares the CPU, the API server and the
// clone's lock with at most the preview steps already under way, and
// previews resume when no sync is at work.
//
// Begin never blocks: a sync is never delayed by the Gate, only previews.
// A nil *Gate never holds anything back.
package priority

import (
	"context"
	"sync"
)

// Gate is held by syncs at work and waited at by previews.
type Gate struct {
	mu   sync.Mutex
	busy int
	// free is closed when busy drops to 0, and replaced when it rises.
	free    chan struct{}
	waiting int
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
