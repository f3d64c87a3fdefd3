package gitsource

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// errStalled ends a fetch that received nothing for Options.Stall.
var errStalled = errors.New("nothing received")

// intake counts what fetches receive from the remote: the bytes of the
// pack and the server's progress messages (sideband channel 2), which go on
// while the server counts and compresses before the pack starts. Both
// arrive a sideband packet (up to 64 KiB) at a time.
type intake struct{ n atomic.Int64 }

// Write counts p; it is the fetches' Progress writer.
func (in *intake) Write(p []byte) (int, error) {
	in.n.Add(int64(len(p)))
	return len(p), nil
}

// fetching is ctx for one fetch, ended once nothing was received for
// s.opts.Stall: a fetch that keeps receiving runs as long as it needs, so
// the first clone of a big repository is not cut at a fixed time. done
// releases it; failed says why a fetch that returned err ended.
func (s *Source) fetching(ctx context.Context) (fctx context.Context, done func(), failed func(error) error) {
	fctx, cancel := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	stall := s.opts.Stall
	go func() {
		tick := time.NewTicker(max(stall/8, time.Millisecond))
		defer tick.Stop()
		seen, at := s.received.n.Load(), time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				if n := s.received.n.Load(); n != seen {
					seen, at = n, now
				} else if now.Sub(at) >= stall {
					cancel(fmt.Errorf("%w from the remote for %s", errStalled, stall))
					return
				}
			}
		}
	}()
	done = func() {
		close(stop)
		cancel(nil)
	}
	failed = func(err error) error {
		if cause := context.Cause(fctx); errors.Is(cause, errStalled) && ctx.Err() == nil {
			return fmt.Errorf("%w (%w)", cause, err)
		}
		return err
	}
	return fctx, done, failed
}
