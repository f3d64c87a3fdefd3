package main

import (
	"bufio"
	"io"
	"os"
	"strings"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

// work is what a replica's log says its workers did: namespace → the
// commits it applied or recorded deployed there.
type work map[string]map[string]bool

// readWork reads a replica's log.
func readWork(path string) (work, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseWork(f)
}

// parseWork reads the workers' lines "commit applied" and "commit
// deployed…" (text logs) for their namespace and sha.
func parseWork(r io.Reader) (work, error) {
	out := work{}
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		if !strings.Contains(line, ` msg="commit applied"`) && !strings.Contains(line, ` msg="commit deployed`) {
			continue
		}
		ns, sha := benchenv.LogField(line, "namespace"), benchenv.LogField(line, "sha")
		if ns == "" || sha == "" {
			continue
		}
		if out[ns] == nil {
			out[ns] = map[string]bool{}
		}
		out[ns][sha] = true
	}
	return out, s.Err()
}

// outside counts the namespaces where w did some of shas though mine says
// the namespace is not this replica's.
func (w work) outside(shas []string, mine func(ns string) bool) (n int, example string) {
	for ns, done := range w {
		for _, sha := range shas {
			if done[sha] && !mine(ns) {
				n++
				example = ns
				break
			}
		}
	}
	return n, example
}

// namespaces counts the namespaces where w did some of shas.
func (w work) namespaces(shas []string) int {
	n := 0
	for _, done := range w {
		for _, sha := range shas {
			if done[sha] {
				n++
				break
			}
		}
	}
	return n
}
