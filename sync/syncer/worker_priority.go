package syncer

// The worker holds Options.Gate (package priority) while it works on a
// commit: from a new head until the commit is applied and recorded, except
// while pods are waited for and while it pauses between failed status
// writes (pause).

// busy holds Options.Gate for the worker until idle; holding it already,
// or stopped, it does nothing.
func (w *worker) busy() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.held == nil && !w.stopped {
		w.held = w.s.opts.Gate.Begin()
	}
}

// idle ends the worker's hold of Options.Gate, and of Syncer.changed.
func (w *worker) idle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.releaseGate()
	w.releaseSorting(false)
}

// pause ends the worker's holds for a pause between failed status writes:
// a namespace whose writes keep failing (its Version deleted while the
// namespace terminates, its RBAC taken back) holds back neither previews
// nor the records' lane. busy takes Options.Gate back for the next write;
// Syncer.changed stays free (worker_defer.go).
func (w *worker) pause() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.releaseGate()
	w.releaseSorting(true)
}

// releaseGate ends the worker's hold of Options.Gate; w.mu is held.
func (w *worker) releaseGate() {
	if w.held != nil {
		w.held()
		w.held = nil
	}
}

// stop ends every hold: the worker ends. A head noted after it (by a
// fetch before RunNamespaces forgot the worker) takes no hold: nothing
// would end it. It is one step under w.mu: a head noted between ending
// the holds and marking the worker stopped would take a hold for good.
func (w *worker) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.releaseGate()
	w.releaseSorting(true)
}

// woken reports whether the worker was woken meanwhile (the head moved),
// leaving the signal for its loop.
func (w *worker) woken() bool {
	select {
	case <-w.wake:
		// Put the signal back for the loop.
		select {
		case w.wake <- struct{}{}:
		default:
		}
		return true
	default:
	}
	return false
}
