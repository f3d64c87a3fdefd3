package syncer

// A namespace whose inputs a new head leaves unchanged records it after
// the namespaces whose inputs changed: its one status write would
// otherwise queue at the API server beside theirs (100 namespaces, one
// changed: 99 writes ahead of the changed one's four). Each worker holds
// Syncer.changed from a new head until it knows its inputs are unchanged,
// or, when they changed, until its commit is applied and recorded (as it
// holds Options.Gate); an unchanged namespace waits until nobody holds it,
// at most maxDefer, and a newer head met meanwhile is recorded instead,
// with the commits between (lifecycle.Unchanged): commits that come faster
// than they are recorded cost one write per unchanged namespace.

import (
	"context"
	"time"
)

// maxDefer bounds how long an unchanged namespace gives way, so commits
// that keep other namespaces busy do not leave it unrecorded.
const maxDefer = 2 * time.Second

// unsorted holds Syncer.changed for the worker, for the new head, until
// it has taken that head up and found its inputs unchanged (sorted) or
// gone idle; holding it already, it only notes the head.
func (w *worker) unsorted(head string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sortingFor = head
	if w.sorting == nil {
		w.sorting = w.s.changed.Begin()
	}
}

// sorted ends the worker's hold of Syncer.changed: head changes nothing
// here. A hold for a newer head is kept.
func (w *worker) sorted(head string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sortingFor == head {
		w.releaseSorting(true)
	}
}

// releaseSorting ends the hold of Syncer.changed, unless the worker has not
// taken up the head it holds it for (a step that ends as a new head comes
// keeps it) and all is false; w.mu is held.
func (w *worker) releaseSorting(all bool) {
	if w.sorting != nil && (all || w.stepped == w.sortingFor) {
		w.sorting()
		w.sorting = nil
	}
}

// giveWay waits until no namespace is still sorting itself or applying
// changed inputs, or maxDefer passed. It reports false when the head moved
// meanwhile (or ctx ended): the caller then records nothing, and the
// worker takes up the newer head.
func (w *worker) giveWay(ctx context.Context, gen uint64) bool {
	wctx, cancel := context.WithTimeoutCause(ctx, maxDefer, context.DeadlineExceeded)
	defer cancel()
	ictx, end, ok := w.interruptible(wctx, gen)
	defer end()
	if !ok {
		return false
	}
	_ = w.s.changed.Wait(ictx)
	return ctx.Err() == nil && !w.interrupted(gen)
}

// interruptible returns a context that ends when the head moves past gen
// (offer), and the func that ends it; ok is false when the head moved
// already.
func (w *worker) interruptible(ctx context.Context, gen uint64) (context.Context, func(), bool) {
	ictx, cancel := context.WithCancelCause(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gen != gen {
		cancel(nil)
		return ictx, func() {}, false
	}
	w.interrupt = cancel
	return ictx, func() {
		w.mu.Lock()
		w.interrupt = nil
		w.mu.Unlock()
		cancel(nil)
	}, true
}
