package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/syncgate/syncgate/sync/lease"
)

// leader runs work while this replica holds the Lease, one term at a time,
// and contends again after each term until its context ends. The elector
// stops the work before it gives the Lease up (on shutdown it renews the
// Lease until the work has returned), so a standby never starts while
// this replica still applies.
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
	elector *lease.Elector
	id      string
	work    func(context.Context) error
	log     *slog.Logger

	retryPeriod time.Duration

	// resign, when set, ends the current term (the work stops, then the
	// lease is given up) when signalled: a shard handed to another replica.
	resign chan struct{}
}

const logWaitingForWork = "waiting for leader work to stop"

// maxTermPause caps the pause before contending again after work that
// ended by itself; work that ran this long before ending resets the pause.
const maxTermPause = time.Minute

func (l *leader) run(ctx context.Context) {
	// Standbys retry every 1 to 2.2 retry periods: a pause of two lets
	// most of them try for the released lease first.
	first := 2 * l.retryPeriod
	pause := first
	for ctx.Err() == nil {
		end := l.term(ctx)
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
			return
		case <-t.C:
		}
		pause = min(2*pause, maxTermPause)
	}
}

// termEnd says how a term's work ended.
type termEnd struct {
	early bool // returned by itself while the lease was held
	err   error
	ran   time.Duration
}

// term contends for the lease once and runs the work while it is held. It
// returns once the work has returned and the lease is given up.
func (l *leader) term(ctx context.Context) termEnd {
	tctx, endTerm := context.WithCancel(ctx)
	defer endTerm()
	if l.resign != nil {
		select {
		case <-l.resign: // asked of an earlier term
		default:
		}
		go func() {
			select {
			case <-l.resign:
				l.log.Info("giving the lease up to a replica with fewer shards")
				endTerm()
			case <-tctx.Done():
			}
		}()
	}
	var end termEnd
	led := l.elector.Run(tctx, func(wctx context.Context) {
		l.log.Info("leading: applying commits", "identity", l.id)
		returned := make(chan struct{})
		defer close(returned)
		context.AfterFunc(wctx, func() {
			select {
			case <-returned:
			default:
				l.log.Info(logWaitingForWork)
			}
		})
		began := time.Now()
		err := l.work(wctx)
		end = termEnd{early: wctx.Err() == nil, err: err, ran: time.Since(began)}
	})
	if led {
		l.log.Info("not leading: serving only", "identity", l.id)
	}
	return end
}
