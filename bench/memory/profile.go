package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

// heapProfiles takes the agent's heap profiles (in use after a full
// collection, from its loopback DEBUG_ADDR) after the commits of
// -heap-at, into -profiles: diff two with
// `go tool pprof -base <dir>/<bin>-commit-200.pb.gz <dir>/<bin>-commit-1000.pb.gz`.
type heapProfiles struct {
	dir string
	at  map[int]bool
}

func parseHeapAt(list string) (map[int]bool, error) {
	at := map[int]bool{}
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-heap-at: %q is not a commit number", f)
		}
		at[n] = true
	}
	return at, nil
}

func (p *heapProfiles) on() bool { return p != nil && len(p.at) > 0 }

// take writes the heap profile of the agent at debugURL as
// <dir>/<name>-<what>.pb.gz.
func (p *heapProfiles) take(ctx context.Context, debugURL, name, what string) error {
	return benchenv.WriteHeapProfile(ctx, debugURL, p.dir, name+"-"+what)
}
