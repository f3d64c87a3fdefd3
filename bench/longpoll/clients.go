//go:build linux

package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	waitPath    = "/wait/" + sha + "?namespace=web&timeout=5m"
	waitRequest = "GET " + waitPath + " HTTP/1.1\r\nHost: loadtest\r\nUser-Agent: loadtest\r\n\r\n"
)

func runLoad(n int, kind string) (result, error) {
	var r result
	g, err := startGateway()
	if err != nil {
		return r, err
	}
	defer g.stop()
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		_ = c.Control(func(fd uintptr) {
			err = syscall.SetsockoptLinger(int(fd), syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1})
		})
		return err
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: n, IdleConnTimeout: time.Minute}}
	r.idle = g.rss("VmRSS")
	hooks := webhookLatency(client, g.base, 200)
	r.hook50, r.hook99 = pct(hooks, 0.50), pct(hooks, 0.99)

	done, arrived := make([]time.Time, n), make([]time.Time, n)
	codes := make([]int, n)
	// Raw and epoll clients hold their connection until every answer is
	// in: their closes would otherwise take CPU from the gateway and the
	// clients still reading, which on a real CI fleet are on other machines.
	var wg, answered sync.WaitGroup
	hold := make(chan struct{})
	start := time.Now()
	epoll := strings.HasPrefix(kind, "epoll")
	if epoll {
		wg.Add(1)
		answered.Add(1)
		var once sync.Once
		go func() {
			defer wg.Done()
			defer once.Do(answered.Done)
			if err := epollClients(g.base[len("http://"):], n, kind == "epoll-idle", codes, done, arrived, func() { once.Do(answered.Done); <-hold }); err != nil {
				fmt.Fprintln(os.Stderr, "longpoll: epoll clients:", err)
			}
		}()
	}
	for i := 0; i < n && !epoll; i++ {
		wg.Add(1)
		answered.Add(1)
		go func(i int) {
			defer wg.Done()
			var err error
			if kind == "raw" {
				codes[i], done[i], err = rawWait(g.base[len("http://"):], answered.Done, hold)
			} else {
				defer answered.Done()
				codes[i], done[i], err = httpWait(client, g.base)
			}
			if err != nil {
				codes[i] = -1
			}
		}(i)
	}
	// Wait until every poll is parked in the gateway.
	for {
		open := openWaiters(g.base)
		if open >= n {
			break
		}
		if time.Since(start) > 2*time.Minute {
			return r, fmt.Errorf("only %d of %d waiters connected", open, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.connect = time.Since(start)
	r.parked = g.rss("VmRSS")
	if *memprofile != "" {
		if err := g.heapProfile(); err != nil {
			return r, err
		}
	}
	if r.parkedMem, err = g.mem(); err != nil {
		return r, err
	}
	// The clients' own garbage collection is kept out of the release.
	gc := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(gc)
	r.threadsParked = g.status("Threads")
	gwCPU, selfCPU := cpuTime(g.cmd.Process.Pid), cpuTime(os.Getpid())
	flip := time.Now()
	if _, err := io.WriteString(g.in, "flip\n"); err != nil {
		return r, err
	}
	answered.Wait()
	r.releaseWall = time.Since(flip)
	if after, err := g.mem(); err == nil {
		r.releaseGC = after.NumGC - r.parkedMem.NumGC
	}
	r.gatewayCPU, r.clientCPU = cpuTime(g.cmd.Process.Pid)-gwCPU, cpuTime(os.Getpid())-selfCPU
	r.threadsReleased = g.status("Threads")
	close(hold)
	wg.Wait()
	r.peak = g.rss("VmHWM")

	var lat, at []time.Duration
	for i := range done {
		if codes[i] != http.StatusOK {
			r.bad++
			continue
		}
		lat = append(lat, done[i].Sub(flip))
		if !arrived[i].IsZero() {
			at = append(at, arrived[i].Sub(flip))
		}
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	if len(lat) > 0 {
		r.p50, r.p99, r.max = pct(lat, 0.50), pct(lat, 0.99), lat[len(lat)-1]
	}
	r.arrived50, r.arrived99 = -1, -1
	if len(at) == len(lat) && len(at) > 0 {
		sort.Slice(at, func(a, b int) bool { return at[a] < at[b] })
		r.arrived50, r.arrived99 = pct(at, 0.50), pct(at, 0.99)
	}
	r.written, r.written99 = releaseFigures(g.base)
	return r, nil
}

// rawWait sends one long poll on its own connection and reads the answer
// up to its Content-Length, noting when it was complete.
func rawWait(addr string, answered func(), hold <-chan struct{}) (int, time.Time, error) {
	var once sync.Once
	defer once.Do(answered)
	var conn net.Conn
	var err error
	for try := 0; ; try++ { // a full accept queue refuses; try again
		if conn, err = net.Dial("tcp", addr); err == nil || try == 20 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	defer abort(conn)
	if _, err := io.WriteString(conn, waitRequest); err != nil {
		return 0, time.Time{}, err
	}
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		k, err := conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if code, ok := complete(buf); ok {
			at := time.Now()
			once.Do(answered)
			<-hold
			return code, at, nil
		}
		if err != nil {
			return 0, time.Time{}, fmt.Errorf("incomplete answer %q: %w", buf, err)
		}
	}
}

// complete reports whether b holds a whole response, and its status code.
func complete(b []byte) (int, bool) {
	head, body, ok := bytes.Cut(b, []byte("\r\n\r\n"))
	if !ok {
		return 0, false
	}
	lines := strings.Split(string(head), "\r\n")
	f := strings.Fields(lines[0])
	if len(f) < 2 {
		return 0, false
	}
	code, _ := strconv.Atoi(f[1])
	for _, l := range lines[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Content-Length") {
			want, _ := strconv.Atoi(strings.TrimSpace(v))
			return code, len(body) >= want
		}
	}
	return code, false
}

func httpWait(client *http.Client, base string) (int, time.Time, error) {
	resp, err := client.Get(base + waitPath)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, time.Time{}, err
	}
	return resp.StatusCode, time.Now(), nil
}

// webhookLatency posts signed push webhooks; the gateway answers 202 after
// it has asked for the fetch, so the round trip bounds that latency.
func webhookLatency(client *http.Client, base string, n int) []time.Duration {
	body := []byte(`{"ref":"refs/heads/main","after":"` + sha + `"}`)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	sig := "sha256=" + hex.EncodeToString(m.Sum(nil))
	var out []time.Duration
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest(http.MethodPost, base+"/hooks/github", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-Hub-Signature-256", sig)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusAccepted {
			out = append(out, time.Since(start))
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}
