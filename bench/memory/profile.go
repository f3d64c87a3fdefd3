package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, debugURL+"/debug/pprof/heap?gc=1", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("heap profile: %s", resp.Status)
	}
	path := filepath.Join(p.dir, fmt.Sprintf("%s-%s.pb.gz", name, what))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	fmt.Fprintf(os.Stderr, "heap profile %s\n", path)
	return f.Close()
}
