package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Fetches for shas the repo does not know. Anyone who can reach /wait or
// /status can name a random sha, and each unknown one would make syncgate
// list the remote with its credentials. So these fetches are shared and
// paced: at most one starts every fetchGate.every, and every request for an
// unknown sha waits for the first fetch that starts after it arrived, then
// takes that fetch's word. A fetch that started before the request could
// have missed the push the request is about, and a 404 is final for CI; a
// fetch already running is still waited for first, as it usually finds the
// commit. Any other fetch that ends meanwhile (a push webhook's, the poll's)
// is looked at too: the sha it brings is answered at once, without waiting
// for the paced one. Between fetches the answer costs nothing but the
// waiting request. A request waits until its own deadline, or the time the
// fetch that decides is due to start when that comes later (at most
// fetchGate.every on: a sha that is not there is told 404 even with no
// deadline left), and fetchGate.grace more; past that the fetch is slow
// (errFetchPending). Nor past shutdown, which also cuts the fetch short.

// errFetchBusy is a request turned away because too many wait for a fetch.
var errFetchBusy = errors.New("too many requests are waiting for a fetch of the config repo; retry")

// errShuttingDown ends waits for a fetch at shutdown.
var errShuttingDown = errors.New("syncgate is shutting down; retry")

// errFetchPending ends a wait whose bound came before the fetch's end.
var errFetchPending = errors.New("the fetch has not ended")

// fetchGrace is how long past its deadline, or past the time the fetch
// that decides is due to start when later, a request still waits for the
// fetch behind an unknown sha: a timeout of 0, or /status, still hears a
// quick fetch's word (404 among others).
const fetchGrace = 2 * time.Second

type fetchGate struct {
	every      time.Duration
	maxWaiting int
	grace      time.Duration
	fetch      func(ctx context.Context) (string, error)
	fetched    func() <-chan struct{}
	stop       <-chan struct{}

	mu      sync.Mutex
	latest  *fetchRun // scheduled, running or done; nil before the first
	waiting int
}

// fetchRun is one fetch; done is closed when it ended, err set before.
type fetchRun struct {
	start time.Time // scheduled start; the fetch begins no earlier
	done  chan struct{}
	err   error
}

func (r *fetchRun) finished() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// next is the fetch a request that arrived at t waits for: the running one
// when it started before t (final false: it may not know of the sha yet),
// else one starting at or after t, scheduled when there is none (final).
// due is when the fetch that decides is to start: r's start when final,
// else the earliest the pacing lets the one after r start.
func (g *fetchGate) next(ctx context.Context, t time.Time) (r *fetchRun, final bool, due time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	prev := g.latest
	if prev != nil && !prev.start.Before(t) {
		return prev, true, prev.start
	}
	if prev != nil && !prev.finished() && !time.Now().Before(prev.start) {
		return prev, false, prev.start.Add(g.every)
	}
	start := time.Now()
	if prev != nil {
		start = maxTime(start, prev.start.Add(g.every))
	}
	r = &fetchRun{start: start, done: make(chan struct{})}
	g.latest = r
	go g.run(context.WithoutCancel(ctx), prev, r)
	return r, true, start
}

// run starts r at its time, after prev ended, unless syncgate stops first.
// The fetch outlives the request that scheduled it: the others wait on it.
// It ends at fetchTimeout or shutdown.
func (g *fetchGate) run(ctx context.Context, prev, r *fetchRun) {
	defer close(r.done)
	if prev != nil {
		select {
		case <-prev.done:
		case <-g.stop:
			r.err = errShuttingDown
			return
		}
	}
	t := time.NewTimer(time.Until(r.start))
	defer t.Stop()
	select {
	case <-t.C:
	case <-g.stop:
		r.err = errShuttingDown
		return
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	go func() {
		select {
		case <-g.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, r.err = g.fetch(ctx)
}

// wait blocks until r ended, or another fetch ended after which known says
// the sha is found, or shutdown began (errShuttingDown), or until passed or
// ctx ended (errFetchPending, with ctx's error if it did); it counts the
// waiters.
func (g *fetchGate) wait(ctx context.Context, r *fetchRun, until time.Time, known func() bool) error {
	g.mu.Lock()
	if g.waiting >= g.maxWaiting {
		g.mu.Unlock()
		return errFetchBusy
	}
	g.waiting++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
	}()
	bound := time.NewTimer(time.Until(until))
	defer bound.Stop()
	for {
		fetched := g.fetched() // taken before looking, so no fetch is missed
		if known() {
			return nil
		}
		select {
		case <-r.done:
			return r.err
		case <-fetched:
		case <-g.stop:
			return errShuttingDown
		case <-bound.C:
			if r.finished() {
				return r.err
			}
			return errFetchPending
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", errFetchPending, ctx.Err())
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
