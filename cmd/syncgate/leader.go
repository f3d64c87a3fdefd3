package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// leader runs work while this replica holds the Lease, one term at a time,
// and contends again after each term until its context ends.
//
// client-go's LeaderElector starts OnStartedLeading in a goroutine and never
// waits for it: Run returns as soon as a renewal fails, with the work still
// running, and ReleaseOnCancel gives the lease up before the work has even
// been told to stop. So a term waits for its work before this replica
// contends again, and the lease is given up only once the work has returned.
//
// When the work returns by itself while the lease is held, the term ends: the
// lease is given up and, after a pause, contended for again. Restarting the
// work within the term would keep the lease on a replica whose work keeps
// failing (a broken cache dir, a node that cannot reach the forge) while
// healthy standbys wait; giving it up lets a standby take over, starts every
// run of the work on a fresh term context, and is the same path as a lost
// lease rather than a second loop with its own timing. Exiting the process,
// as controller-runtime does on a lost lease, would also stop /wait, which
// every replica serves.
type leader struct {
	lock resourcelock.Interface
	work func(context.Context) error
	log  *slog.Logger

	leaseDuration, renewDeadline, retryPeriod time.Duration

	// resign, when set, ends the current term (the work stops, then the
	// lease is given up) when signalled: a shard handed to another replica.
	resign chan struct{}
}

const logWaitingForWork = "waiting for leader work to stop"

// maxTermPause caps the pause before contending again after work that
// ended by itself; work that ran this long before ending resets the pause.
const maxTermPause = time.Minute

func (l *leader) run(ctx context.Context) error {
	// Standbys retry every RetryPeriod (jittered by up to a fifth): twice
	// that lets each of them try for the released lease first.
	first := 2 * l.retryPeriod
	pause := first
	for ctx.Err() == nil {
		end, err := l.term(ctx)
		if err != nil {
			return err
		}
		if !end.early {
			pause = first
			continue
		}
		if end.ran >= maxTermPause {
			pause = first
		}
		l.log.Error("leader work ended while leading; lease given up", "err", end.err, "retry_in", pause)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		pause = min(2*pause, maxTermPause)
	}
	return nil
}

// termEnd says how a term's work ended.
type termEnd struct {
	early bool // returned by itself while the lease was held
	err   error
	ran   time.Duration
}

// term contends for the lease once and runs the work while it is held. It
// returns once the elector and the work have both returned.
func (l *leader) term(ctx context.Context) (termEnd, error) {
	// The elector gets a context of its own, ended only once the work has
	// returned or can no longer start: ending it releases the lease.
	ectx, endTerm := context.WithCancel(context.WithoutCancel(ctx))
	defer endTerm()
	w := &termWork{done: make(chan struct{})}
	id := l.lock.Identity()
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            releaseFence{Interface: l.lock, work: w, log: l.log},
		LeaseDuration:   l.leaseDuration,
		RenewDeadline:   l.renewDeadline,
		RetryPeriod:     l.retryPeriod,
		ReleaseOnCancel: true,
		Name:            "syncgate",
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(tctx context.Context) {
				wctx, ok := w.start(tctx)
				if !ok {
					return
				}
				l.log.Info("leading: applying commits", "identity", id)
				began := time.Now()
				err := l.work(wctx)
				w.finish(termEnd{early: wctx.Err() == nil, err: err, ran: time.Since(began)})
				endTerm()
			},
			OnStoppedLeading: func() {},
			OnNewLeader: func(holder string) {
				if holder != id {
					l.log.Info("leader elected", "leader", holder)
				}
			},
		},
	})
	if err != nil {
		return termEnd{}, fmt.Errorf("leader election: %w", err)
	}
	// On shutdown the work stops first, however long that takes; only then
	// does the elector end and release the lease.
	forever := context.WithoutCancel(ctx)
	stop := context.AfterFunc(ctx, func() {
		_ = w.stop(forever, l.log)
		endTerm()
	})
	defer stop()
	if l.resign != nil {
		select {
		case <-l.resign: // asked of an earlier term
		default:
		}
		go func() {
			select {
			case <-l.resign:
				l.log.Info("giving the lease up to a replica with fewer shards")
				_ = w.stop(forever, l.log)
				endTerm()
			case <-ectx.Done():
			}
		}()
	}
	le.Run(ectx)
	_ = w.stop(forever, l.log)
	end, led := w.result()
	if led {
		l.log.Info("not leading: serving only", "identity", id)
	}
	return end, nil
}

// releaseFence holds back the write that gives the lease up until the work
// has returned. With ReleaseOnCancel, client-go releases right after a failed
// renewal, before it cancels the work's context: a standby could then start
// while this work still applies, the overlap that a LeaseDuration longer than
// RenewDeadline is there to prevent. If the work does not stop within the
// release's deadline, the lease is not released and lapses instead.
type releaseFence struct {
	resourcelock.Interface
	work *termWork
	log  *slog.Logger
}

func (f releaseFence) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	if r.HolderIdentity == "" {
		if err := f.work.stop(ctx, f.log); err != nil {
			return fmt.Errorf("lease kept while leader work stops: %w", err)
		}
	}
	return f.Interface.Update(ctx, r)
}

// termWork is one term's run of the work. OnStartedLeading may be scheduled
// after the elector's Run has returned; once the term is stopped, the work
// no longer starts.
type termWork struct {
	mu      sync.Mutex
	stopped bool
	cancel  context.CancelFunc // set once the work starts
	done    chan struct{}      // closed once the work has returned
	end     termEnd            // written before done is closed
}

func (w *termWork) start(ctx context.Context) (context.Context, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return nil, false
	}
	ctx, w.cancel = context.WithCancel(ctx)
	return ctx, true
}

func (w *termWork) finish(end termEnd) {
	w.end = end
	close(w.done)
}

// stop tells the work to stop and waits until it has returned or ctx ends.
func (w *termWork) stop(ctx context.Context, log *slog.Logger) error {
	w.mu.Lock()
	w.stopped = true
	cancel := w.cancel
	w.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-w.done:
		return nil
	default:
	}
	log.Info(logWaitingForWork)
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// result is how the work ended, and whether it ran; call it once stop has
// returned nil.
func (w *termWork) result() (termEnd, bool) {
	w.mu.Lock()
	started := w.cancel != nil
	w.mu.Unlock()
	if !started {
		return termEnd{}, false
	}
	<-w.done
	return w.end, true
}
