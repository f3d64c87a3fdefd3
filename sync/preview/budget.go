package preview

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/syncgate/syncgate/sync/priority"
)

// errTimedOut is the cause of a preview's context ending when its budget
// is spent.
var errTimedOut = errors.New("preview timed out")

// budget is a preview's time limit (Options.Timeout). It does not run
// while the preview waits at the Gate: time given to syncs is not the
// preview's, so a preview queued behind a long run of syncs is not timed
// out for it. A nil *budget limits nothing (a fetch for Submit).
type budget struct {
	mu    sync.Mutex
	left  time.Duration
	since time.Time // when it last started running
	timer *time.Timer
}

// withBudget is ctx ended, with the cause errTimedOut, once d of the
// preview's own time has gone by; stop ends it and its timer.
func withBudget(ctx context.Context, d time.Duration) (context.Context, *budget, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	b := &budget{left: d, since: time.Now()}
	b.timer = time.AfterFunc(d, func() { cancel(errTimedOut) })
	return ctx, b, func() { b.timer.Stop(); cancel(context.Canceled) }
}

// timedOut reports whether ctx, from withBudget, ended for its budget.
func timedOut(ctx context.Context) bool { return errors.Is(context.Cause(ctx), errTimedOut) }

// pause stops the budget running; resume starts it again.
func (b *budget) pause() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timer.Stop() {
		b.left -= time.Since(b.since)
	}
}

func (b *budget) resume() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.since = time.Now()
	b.timer.Reset(max(b.left, 0))
}

// wait is gate.Wait with the budget paused while the preview waits.
func (b *budget) wait(ctx context.Context, gate *priority.Gate) error {
	if !gate.Busy() {
		return ctx.Err()
	}
	b.pause()
	defer b.resume()
	return gate.Wait(ctx)
}

// step is gate.Step with the budget paused while the preview waits.
func (b *budget) step(ctx context.Context, gate *priority.Gate) (context.Context, func(), error) {
	if gate.Busy() {
		b.pause()
		if err := gate.Wait(ctx); err != nil {
			b.resume()
			return nil, func() {}, err
		}
		b.resume()
	}
	return gate.Step(ctx)
}
