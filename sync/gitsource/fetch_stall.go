package gitsource

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// errStalled ends a fetch that received nothing for Options.Stall;
// errOverMaxFetch one that received more than Options.MaxFetch.
var (
	errStalled      = errors.New("nothing received")
	errOverMaxFetch = errors.New("the remote sent more than")
)

// intake counts what fetches receive from the remote: the bytes of the
// pack and the server's progress messages (sideband channel 2), which go on
// while the server counts and compresses before the pack starts. Both
// arrive a sideband packet (up to 64 KiB) at a time.
// A fetch under way sets its bound: once the count passes it, the fetch
// is ended and every write fails, so that the pack stops growing on disk.
type intake struct {
	n     atomic.Int64
	bound atomic.Pointer[bound]
}

// bound is the count past which the fetch under way is ended, with err.
type bound struct {
	at  int64
	end func(error)
	err error
}

// Write counts p; it is the fetches' Progress writer.
func (in *intake) Write(p []byte) (int, error) {
	n := in.n.Add(int64(len(p)))
	if b := in.bound.Load(); b != nil && n > b.at {
		b.end(b.err)
		return 0, b.err
	}
	return len(p), nil
}

// fetching is ctx for one fetch, ended once nothing was received for
// s.opts.Stall: a fetch that keeps receiving runs as long as it needs, so
// the first clone of a big repository is not cut at a fixed time. It is
// ended too once it received more than s.opts.MaxFetch bytes, counted
// from its start, so that one push of a huge pack cannot fill the cache
// disk that every namespace's syncs need. done releases it; failed says
// why a fetch that returned err ended.
func (s *Source) fetching(ctx context.Context) (fctx context.Context, done func(), failed func(error) error) {
	fctx, cancel := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	stall := s.opts.Stall
	if limit := s.opts.MaxFetch; limit > 0 {
		s.received.bound.Store(&bound{at: s.received.n.Load() + limit, end: cancel,
			err: fmt.Errorf("%w %d bytes in one fetch; refusing it, the head stays (raise the limit if the repository is that large)", errOverMaxFetch, limit)})
	}
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
		s.received.bound.Store(nil)
		close(stop)
		cancel(nil)
	}
	failed = func(err error) error {
		cause := context.Cause(fctx)
		if errors.Is(err, errOverMaxFetch) {
			return err
		}
		if (errors.Is(cause, errStalled) || errors.Is(cause, errOverMaxFetch)) && ctx.Err() == nil {
			return fmt.Errorf("%w (%w)", cause, err)
		}
		return err
	}
	return fctx, done, failed
}
