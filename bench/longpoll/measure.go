//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const floorBytes = 350 // about an answer's size

// loopbackFloor is the kernel's cost of one answer on loopback TCP: the
// time per write of floorBytes to k connected sockets, and per read of
// them, from one goroutine with nothing else running.
func loopbackFloor(k int) (write, read time.Duration, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer ln.Close()
	var srv, cli []net.Conn
	defer func() {
		for _, c := range append(srv, cli...) {
			abort(c)
		}
	}()
	for range k {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return 0, 0, err
		}
		cli = append(cli, c)
		sc, err := ln.Accept()
		if err != nil {
			return 0, 0, err
		}
		srv = append(srv, sc)
	}
	msg := bytes.Repeat([]byte("x"), floorBytes)
	start := time.Now()
	for _, c := range srv {
		if _, err := c.Write(msg); err != nil {
			return 0, 0, err
		}
	}
	write = time.Since(start) / time.Duration(k)
	buf := make([]byte, 512)
	start = time.Now()
	for _, c := range cli {
		if _, err := io.ReadFull(c, buf[:floorBytes]); err != nil {
			return 0, 0, err
		}
	}
	return write, time.Since(start) / time.Duration(k), nil
}

// abort closes c with a reset, leaving no TIME_WAIT behind: tens of
// thousands of those from earlier runs slow the next one down.
func abort(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// scrape reads the gateway's /metrics: each sample by its full name,
// labels included as exposed, in exposition order.
func scrape(base string) (names []string, values map[string]float64) {
	values = map[string]float64{}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, values
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		names = append(names, name)
		values[name] = f
	}
	return names, values
}

func openWaiters(base string) int {
	_, m := scrape(base)
	return int(m["syncgate_wait_open"])
}

// releaseFigures are the mean of syncgate_wait_release_seconds and the
// upper bound of the histogram bucket that holds its 99th percentile.
func releaseFigures(base string) (mean, p99 time.Duration) {
	names, m := scrape(base)
	count := m["syncgate_wait_release_seconds_count"]
	if count == 0 {
		return 0, -1
	}
	mean = time.Duration(m["syncgate_wait_release_seconds_sum"] / count * float64(time.Second))
	for _, name := range names {
		le, ok := strings.CutPrefix(name, `syncgate_wait_release_seconds_bucket{le="`)
		if ok && m[name] >= 0.99*count {
			f, _ := strconv.ParseFloat(strings.TrimSuffix(le, `"}`), 64)
			return mean, time.Duration(f * float64(time.Second))
		}
	}
	return mean, -1
}

// cpuTime is the user and system CPU time a process used so far.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th, in clock ticks (100 per second).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[int(float64(len(d)-1)*p)]
}
