package syncer

// A namespace whose inputs a new head leaves unchanged records it in one
// status write, through a lane of recordWidth writes at once (worker_lane.go)
// and without waiting for the namespaces whose inputs changed to apply or
// roll out. Each worker holds Syncer.changed from a new head until it knows
// its inputs are unchanged, or, when they changed, until its commit is
// applied and recorded (as it holds Options.Gate), but not while it pauses
// between failed status writes; while anyone holds it the lane lets a
// record in only when none is in flight, so a changed namespace's requests
// do not queue behind 99 writes at the API server. A record holds its place
// for one write attempt, and at most laneHold. A newer head met while
// waiting for the lane, or pausing after a failed write, is recorded
// instead, with the commits between (lifecycle.Unchanged): commits that
// come faster than they are recorded cost one write per unchanged
// namespace.

import (
	"context"
)

// unsorted holds Syncer.changed for the worker, for the new head, until
// it has taken that head up and found its inputs unchanged (sorted) or
// gone idle; holding it already, it only notes the head.
func (w *worker) unsorted(head string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return // nothing would end the hold
	}
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

// giveWay waits for a place in the records' lane. It
// reports false when the head moved meanwhile (or ctx ended): the caller
// then records nothing, and the worker takes up the newer head. Otherwise
// leave gives the place back once the write is answered.
func (w *worker) giveWay(ctx context.Context, gen uint64) (leave func(), ok bool) {
	ictx, end, ok := w.interruptible(ctx, gen)
	defer end()
	if !ok {
		return nil, false
	}
	leave, err := w.s.records.enter(ictx)
	if err != nil {
		return nil, false
	}
	if ctx.Err() != nil || w.interrupted(gen) {
		leave()
		return nil, false
	}
	return leave, true
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
