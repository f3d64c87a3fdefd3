//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/metrics"
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

// The gateway under test, in a child process of its own.

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
func (repo) Fetched() <-chan struct{}             { return nil }
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

func (g *gateway) rss(field string) int64 { return g.status(field) * 1024 }

// status is a number field of the gateway's /proc status (kB for sizes).
func (g *gateway) status(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", g.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}
