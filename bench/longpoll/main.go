//go:build linux

// Command longpoll measures the gateway under many concurrent long polls:
// N clients wait on /wait/<sha>, the commit's Version turns deployed, and
// the time from that change to each complete answer is reported (p50, p99)
// with the gateway's peak RSS, plus the latency of a push webhook to its
// fetch request. The gateway runs as a child process, served by
// server.Serve as in `syncgate run`, so its memory is its own.
//
// Kinds of client are run side by side, each against a fresh gateway:
//
//   - "epoll" clients run every connection from one thread over one epoll
//     set, as wrk does; each socket also carries the kernel's receive
//     timestamp, so besides when an answer was read whole the table shows
//     when its last byte reached the client ("delivered");
//   - "epoll-idle" are the same on a SCHED_IDLE thread, which gets a core
//     only when the gateway leaves one free: the nearest this one machine
//     comes to clients on other machines, and what "delivered" then
//     measures is the gateway;
//   - "raw" clients write one HTTP/1.1 request on their own TCP connection
//     and read the answer up to its Content-Length, a goroutine and a
//     512-byte buffer each, like a CI shell's curl;
//   - "nethttp" clients use Go's http.Client, whose own per-connection
//     goroutines and buffers share the 2 cores with the gateway.
//
// Usage:
//
//	go run ./bench/longpoll [-n 10000] [-clients epoll-idle,epoll,raw,nethttp]
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syncgate/syncgate/server"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/proc"
)

const (
	sha    = "0123456789abcdef0123456789abcdef01234567"
	secret = "loadtest-secret"
)

func main() {
	n := flag.Int("n", 10000, "concurrent long polls")
	clients := flag.String("clients", "epoll-idle,epoll,raw,nethttp", "client kinds to run, comma-separated: epoll-idle, epoll, raw, nethttp")
	memprofile = flag.String("memprofile", "", "write the gateway's heap profile here once all waiters are parked (last run's)")
	serve := flag.String("serve", "", "internal: run the gateway on this address, driven by stdin")
	flag.Parse()
	raiseFileLimit()
	var err error
	if *serve != "" {
		err = runGateway(*serve)
	} else {
		err = runAll(*n, strings.Split(*clients, ","))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "longpoll:", err)
		os.Exit(1)
	}
}

var memprofile *string

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// versions is a Versions whose commit turns deployed on command.
type versions struct {
	mu sync.Mutex
	v  *version.Version
	ch chan struct{}
}

func (s *versions) Get(string) *version.Version { s.mu.Lock(); defer s.mu.Unlock(); return s.v }
func (s *versions) Changed() <-chan struct{}    { s.mu.Lock(); defer s.mu.Unlock(); return s.ch }
func (s *versions) Synced() bool                { return true }
func (s *versions) set(st status.State) {
	s.mu.Lock()
	s.v = &version.Version{Status: version.VersionStatus{Applied: sha, History: []version.Commit{{SHA: sha, State: st}}}}
	if st == status.Deployed {
		s.v.Status.Deployed = sha
	}
	close(s.ch)
	s.ch = make(chan struct{})
	s.mu.Unlock()
}

type repo struct{}

func (repo) IsAncestor(a, b string) (bool, error) { return a == b, nil }
func (repo) OnBranch(s string) (bool, error)      { return s == sha, nil }
func (repo) Sync(context.Context) (string, error) { return sha, nil }
func (repo) Resolve(p string) (string, error) {
	if strings.HasPrefix(sha, p) {
		return sha, nil
	}
	return "", server.ErrUnknownSHA
}

// memStats is what the gateway reports of its Go runtime.
type memStats struct {
	HeapInuse, StackInuse, Sys, Goroutines, PeakGoroutines uint64
	PeakHeapObjects, PeakStacks                            uint64
	NumGC                                                  uint32
}

// runGateway serves the gateway as `syncgate run` does and obeys stdin:
// "flip" turns the commit deployed, "mem" prints memStats as JSON.
func runGateway(addr string) error {
	vs := &versions{ch: make(chan struct{})}
	vs.set(status.RollingOut)
	s, err := server.New(server.Options{
		Cluster: "load", Namespaces: []string{"web"}, Repo: repo{}, Versions: vs, WebhookSecret: secret,
		Branch: func() string { return "main" }, Nudge: func(string) {}, Metrics: prometheus.NewRegistry(),
		MaxWaitTimeout: 10 * time.Minute,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	// Peaks are sampled while the waiters connect, up to the first "mem",
	// which comes once all are parked: the release runs without a sampler.
	var peak, peakHeap, peakStack atomic.Uint64
	sampling := time.NewTicker(time.Millisecond)
	go func() {
		samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
		for range sampling.C {
			if g := uint64(runtime.NumGoroutine()); g > peak.Load() {
				peak.Store(g)
			}
			metrics.Read(samples)
			if v := samples[0].Value.Uint64(); v > peakHeap.Load() {
				peakHeap.Store(v)
			}
			if v := samples[1].Value.Uint64(); v > peakStack.Load() {
				peakStack.Store(v)
			}
		}
	}()
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			switch sc.Text() {
			case "flip":
				vs.set(status.Deployed)
			case "mem":
				sampling.Stop()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				b, _ := json.Marshal(memStats{m.HeapInuse, m.StackInuse, m.Sys, uint64(runtime.NumGoroutine()), peak.Load(), peakHeap.Load(), peakStack.Load(), m.NumGC})
				fmt.Println(string(b))
			case "heap":
				err := writeHeapProfile(*memprofile)
				fmt.Println(errString(err))
			}
		}
		stop()
	}()
	return s.Serve(ctx, ln)
}

// result is one run's figures.
type result struct {
	bad           int
	p50, p99, max time.Duration
	// From the change to the last byte reaching the client's socket, by
	// the kernel's receive timestamp (epoll clients only).
	arrived50, arrived99 time.Duration
	idle, parked, peak   int64
	parkedMem            memStats
	hook50, hook99       time.Duration
	connect              time.Duration
	written, written99   time.Duration
	// From the change to the last answer: wall time, and the CPU time the
	// gateway and the clients spent in it.
	releaseWall, gatewayCPU, clientCPU time.Duration
	releaseGC                          uint32 // gateway GC cycles in it
}

func runAll(n int, kinds []string) error {
	var rs []result
	for _, k := range kinds {
		if k != "epoll" && k != "epoll-idle" && k != "raw" && k != "nethttp" {
			return fmt.Errorf("unknown client kind %q (epoll, epoll-idle, raw, nethttp)", k)
		}
		r, err := runLoad(n, k)
		if err != nil {
			return fmt.Errorf("%s clients: %w", k, err)
		}
		rs = append(rs, r)
	}
	floorW, floorR, err := loopbackFloor(min(n, 4000))
	if err != nil {
		return fmt.Errorf("loopback floor: %w", err)
	}
	fmt.Printf("\n%d concurrent /wait long polls on one gateway (child process, loopback, %d cores)\n\n", n, runtime.NumCPU())
	row := func(name string, f func(r result) string) {
		fmt.Printf("| %-40s |", name)
		for _, r := range rs {
			fmt.Printf(" %-16s |", f(r))
		}
		fmt.Println()
	}
	fmt.Printf("| %-40s |", "measure")
	for _, k := range kinds {
		fmt.Printf(" %-16s |", k+" clients")
	}
	fmt.Printf("\n|%s|", strings.Repeat("-", 42))
	for range rs {
		fmt.Printf("%s|", strings.Repeat("-", 18))
	}
	fmt.Println()
	row("all connected and parked after", func(r result) string { return r.connect.Round(time.Millisecond).String() })
	row("answers other than 200", func(r result) string { return strconv.Itoa(r.bad) })
	row("deployed → complete answer, p50", func(r result) string { return r.p50.Round(100 * time.Microsecond).String() })
	row("deployed → complete answer, p99", func(r result) string { return r.p99.Round(100 * time.Microsecond).String() })
	row("deployed → complete answer, max", func(r result) string { return r.max.Round(100 * time.Microsecond).String() })
	row("deployed → answer delivered, p50", func(r result) string { return opt(r.arrived50) })
	row("deployed → answer delivered, p99", func(r result) string { return opt(r.arrived99) })
	row("gateway: due → answer written, mean", func(r result) string { return r.written.Round(100 * time.Microsecond).String() })
	row("gateway: due → answer written, p99 ≤", func(r result) string { return r.written99.String() })
	row("release: wall / gateway CPU / clients CPU", func(r result) string {
		return fmt.Sprintf("%d / %d / %d ms", r.releaseWall.Milliseconds(), r.gatewayCPU.Milliseconds(), r.clientCPU.Milliseconds())
	})
	row("release: gateway GC cycles", func(r result) string { return strconv.Itoa(int(r.releaseGC)) })
	row("gateway RSS idle", func(r result) string { return mb(r.idle) })
	row("gateway RSS, all parked", func(r result) string { return mb(r.parked) })
	row("gateway peak RSS (VmHWM)", func(r result) string { return mb(r.peak) })
	row("gateway heap in use, all parked", func(r result) string { return mb(int64(r.parkedMem.HeapInuse)) })
	row("gateway stacks in use, all parked", func(r result) string { return mb(int64(r.parkedMem.StackInuse)) })
	row("gateway goroutines, all parked", func(r result) string { return strconv.FormatUint(r.parkedMem.Goroutines, 10) })
	row("gateway goroutines, peak while connecting", func(r result) string { return strconv.FormatUint(r.parkedMem.PeakGoroutines, 10) })
	row("gateway peak heap objects / stacks", func(r result) string {
		return fmt.Sprintf("%s / %s", mb(int64(r.parkedMem.PeakHeapObjects)), mb(int64(r.parkedMem.PeakStacks)))
	})
	row("push webhook → fetch requested, p50", func(r result) string { return r.hook50.Round(10 * time.Microsecond).String() })
	row("push webhook → fetch requested, p99", func(r result) string { return r.hook99.Round(10 * time.Microsecond).String() })
	fmt.Printf("\nLoopback floor on this machine, one thread, idle sockets: a %d-byte answer costs %.1f µs to write and %.1f µs to read;\n"+
		"%d answers are %d ms of CPU, %d ms on %d cores, before any HTTP.\n", floorBytes, us(floorW), us(floorR),
		n, (time.Duration(n) * (floorW + floorR)).Milliseconds(), (time.Duration(n) * (floorW + floorR) / time.Duration(runtime.NumCPU())).Milliseconds(), runtime.NumCPU())
	return nil
}

const floorBytes = 350 // about an answer's size

// opt is d rounded, or "-" where it was not measured (negative).
func opt(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return d.Round(100 * time.Microsecond).String()
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

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

// gateway is the child process.
type gateway struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	base string
}

func startGateway() (*gateway, error) {
	addr, err := proc.FreeAddr()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	g := &gateway{cmd: exec.Command(self, "-serve", addr, "-memprofile", *memprofile), base: "http://" + addr}
	g.cmd.Stderr = os.Stderr
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if g.in, err = g.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := g.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	g.out = bufio.NewScanner(out)
	if err := g.cmd.Start(); err != nil {
		return nil, err
	}
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(g.base + "/healthz"); err == nil {
			resp.Body.Close()
			return g, nil
		}
		if time.Since(start) > 10*time.Second {
			g.stop()
			return nil, errors.New("gateway did not start")
		}
	}
}

func (g *gateway) stop() {
	_ = g.in.Close()
	_ = g.cmd.Process.Kill()
	_ = g.cmd.Wait()
}

func (g *gateway) mem() (memStats, error) {
	var m memStats
	if _, err := io.WriteString(g.in, "mem\n"); err != nil {
		return m, err
	}
	if !g.out.Scan() {
		return m, errors.New("gateway gave no memory figures")
	}
	return m, json.Unmarshal(g.out.Bytes(), &m)
}

func (g *gateway) heapProfile() error {
	if _, err := io.WriteString(g.in, "heap\n"); err != nil {
		return err
	}
	if !g.out.Scan() {
		return errors.New("gateway gave no answer to heap")
	}
	if g.out.Text() != "ok" {
		return fmt.Errorf("gateway heap profile: %s", g.out.Text())
	}
	return nil
}

func (g *gateway) rss(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", g.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

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
