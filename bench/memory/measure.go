package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// sample is a process's memory at one moment, in bytes; heap is the Go
// heap in use and heapSys the heap obtained from the system so far (its
// peak, roughly), as the process's /metrics tells them (-1: not known).
type sample struct {
	rss, anon, file, shmem, peak, heap, heapSys int64
}

// sampleOf reads pid's /proc/<pid>/status and, when metrics is not "",
// go_memstats_heap_inuse_bytes from that URL.
func sampleOf(ctx context.Context, pid int, metrics string) (sample, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return sample{}, err
	}
	defer f.Close()
	fields := map[string]*int64{}
	var s sample
	fields["VmRSS"], fields["RssAnon"], fields["RssFile"], fields["RssShmem"], fields["VmHWM"] = &s.rss, &s.anon, &s.file, &s.shmem, &s.peak
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if p := fields[name]; ok && p != nil {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return sample{}, fmt.Errorf("%s of %d: %w", name, pid, err)
			}
			*p = kb << 10
		}
	}
	s.heap, s.heapSys = -1, -1
	if metrics != "" {
		if s.heap, s.heapSys, err = heapOf(ctx, metrics); err != nil {
			return sample{}, err
		}
	}
	return s, sc.Err()
}

func heapOf(ctx context.Context, url string) (inUse, sys int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	values := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if ok && (name == "go_memstats_heap_inuse_bytes" || name == "go_memstats_heap_sys_bytes") {
			if values[name], err = strconv.ParseFloat(v, 64); err != nil {
				return 0, 0, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if len(values) != 2 {
		return 0, 0, fmt.Errorf("%s: no go_memstats_heap_inuse_bytes or go_memstats_heap_sys_bytes", url)
	}
	return int64(values["go_memstats_heap_inuse_bytes"]), int64(values["go_memstats_heap_sys_bytes"]), nil
}

// settled waits d, the same for every tool, for the work that follows a
// report (caches stopped, garbage collected) before memory is read.
func settled(ctx context.Context, d time.Duration, pid int, metrics string) (sample, error) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return sample{}, ctx.Err()
	}
	return sampleOf(ctx, pid, metrics)
}

// column is one tool's figures.
type column struct {
	name                      string
	idle, synced, after, many sample
	// commits is the memory read as each small commit showed deployed.
	commits []sample
	// manyNote says what scenario many ran (namespaces × objects).
	manyNote string
	// failed are the scenarios that did not finish, with why.
	failed []string
}

// fail notes that scenario ended with err, if it did.
func (c *column) fail(scenario string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s, scenario %s: %v\n", c.name, scenario, err)
		c.failed = append(c.failed, scenario)
	}
}

func mb(b int64) string {
	if b < 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(b)/(1<<20))
}
