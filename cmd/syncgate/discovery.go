package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/syncgate/syncgate/sync/kinds"
)

// discoveryPatience is how long start-up asks again an API server that
// does not answer discovery yet (starting, or its network not up).
type discoveryPatience struct {
	first, max, total time.Duration
}

var startupDiscovery = discoveryPatience{first: 500 * time.Millisecond, max: 4 * time.Second, total: 30 * time.Second}

// loadKinds loads discovery once at start: an API server whose discovery
// syncgate cannot read (older than kinds.MinKubernetes, or refusing
// syncgate) would fail every object of every commit, so it stops
// start-up with one line. One not reachable yet is asked again for a
// while; then start-up goes on, as it does for the Versions' watch and
// the leases, which ask again by themselves, and discovery loads at the
// first mapping.
func loadKinds(ctx context.Context, load func(context.Context) error, p discoveryPatience, logger *slog.Logger) error {
	deadline := time.Now().Add(p.total)
	pause := p.first
	for {
		err := load(ctx)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, kinds.ErrNotAggregated) || apierrors.IsUnauthorized(err) || apierrors.IsForbidden(err):
			return &exitError{code: exitUsage, msg: fmt.Sprintf("kubernetes discovery: %v", err)}
		case time.Now().Add(pause).After(deadline):
			logger.Warn("kubernetes discovery not reachable at start; it loads at the first apply", "err", err)
			return nil
		}
		logger.Warn("kubernetes discovery not reachable; asking again", "err", err, "retry_in", pause)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, p.max)
	}
}
