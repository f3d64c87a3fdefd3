package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

// logMark is how far the agent's log has been written, for spansSince.
func (e *env) logMark() int64 {
	fi, err := os.Stat(e.log)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// awaitLogged waits, up to limit, until the agent's log has a commit
// deployed line for sha: a Version shows the commit deployed before the
// agent writes that line, so reading the log at once could miss it.
func (e *env) awaitLogged(mark int64, sha string, limit time.Duration) {
	if sha == "" {
		return
	}
	want := "sha=" + sha
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(limit)
	for {
		if logged(e.log, mark, want) {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			return
		}
	}
}

// logged reports whether the log, from mark on, has a commit deployed line
// holding want.
func logged(log string, mark int64, want string) bool {
	f, err := os.Open(log)
	if err != nil {
		return false
	}
	defer f.Close()
	if _, err := f.Seek(mark, io.SeekStart); err != nil {
		return false
	}
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		if line := s.Text(); strings.Contains(line, `msg="commit deployed"`) && strings.Contains(line, want) {
			return true
		}
	}
	return false
}

// spansSince says where the time of the commits deployed since mark went,
// from the agent's log: the fetch (webhook to head moved), and per
// namespace rendered and applied, its render, apply (dry run and write),
// rollout wait and Version status writes, each as the median over those
// lines.
func (e *env) spansSince(mark int64) string {
	e.awaitLogged(mark, e.lastSHA, 5*time.Second)
	f, err := os.Open(e.log)
	if err != nil {
		return "-"
	}
	defer f.Close()
	if _, err := f.Seek(mark, io.SeekStart); err != nil {
		return "-"
	}
	vals := map[string][]float64{}
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		switch {
		case strings.Contains(line, `msg="config repo head moved"`):
			if d, err := time.ParseDuration(benchenv.LogField(line, "duration")); err == nil {
				vals["fetch"] = append(vals["fetch"], float64(d.Microseconds())/1000)
			}
		case strings.Contains(line, `msg="commit deployed"`):
			for _, k := range []string{"render_ms", "apply_ms", "wait_ms", "status_writes", "status_write_ms"} {
				if v, err := strconv.ParseFloat(benchenv.LogField(line, k), 64); err == nil {
					vals[k] = append(vals[k], v)
				}
			}
		}
	}
	if len(vals["render_ms"]) == 0 {
		return "-"
	}
	med := func(k string) float64 {
		xs := vals[k]
		if len(xs) == 0 {
			return 0
		}
		sort.Float64s(xs)
		return xs[len(xs)/2]
	}
	return fmt.Sprintf("fetch %.0f, render %.0f, apply %.0f, wait %.0f, %.0f status writes %.0f ms",
		med("fetch"), med("render_ms"), med("apply_ms"), med("wait_ms"), med("status_writes"), med("status_write_ms"))
}
