// Command loadtest measures the gateway under many concurrent long polls:
// N clients wait on /wait/<sha>, the commit's Version turns deployed, and
// the time from that change to each answer is reported (p50, p99) with the
// gateway's peak RSS, plus the latency of a push webhook to its fetch
// request. The gateway runs as a child process so its memory is its own.
//
//	go run ./server/loadtest [-n 10000]
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syncgate/syncgate/server"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

const (
	sha    = "0123456789abcdef0123456789abcdef01234567"
	secret = "loadtest-secret"
)

func main() {
	n := flag.Int("n", 10000, "concurrent long polls")
	serve := flag.String("serve", "", "internal: run the gateway on this address")
	flag.Parse()
	raiseFileLimit()
	var err error
	if *serve != "" {
		err = runGateway(*serve)
	} else {
		err = runLoad(*n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// versions is a Versions whose change is triggered over HTTP.
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
	mux := http.NewServeMux()
	mux.HandleFunc("/flip", func(w http.ResponseWriter, _ *http.Request) { vs.set(status.Deployed) })
	mux.Handle("/", s.Handler())
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

func runLoad(n int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "-serve", addr)
	child.Stderr = os.Stderr
	child.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	base := "http://" + addr
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute}}
	for start := time.Now(); ; {
		if resp, err := client.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Since(start) > 10*time.Second {
			return fmt.Errorf("gateway did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	idleRSS := rss(child.Process.Pid, "VmRSS")

	done := make([]time.Time, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := client.Get(base + "/wait/" + sha[:12] + "?namespace=web&timeout=5m")
			if err != nil {
				codes[i] = -1
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			done[i], codes[i] = time.Now(), resp.StatusCode
		}(i)
	}
	// Wait until every poll is parked in the gateway.
	for start := time.Now(); openWaiters(client, base) < n; {
		if time.Since(start) > 2*time.Minute {
			return fmt.Errorf("only %d of %d waiters connected", openWaiters(client, base), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	parkedRSS := rss(child.Process.Pid, "VmRSS")
	flip := time.Now()
	resp, err := client.Get(base + "/flip")
	if err != nil {
		return err
	}
	resp.Body.Close()
	wg.Wait()

	var lat []time.Duration
	bad := 0
	for i := range done {
		if codes[i] != http.StatusOK {
			bad++
			continue
		}
		lat = append(lat, done[i].Sub(flip))
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	hooks := webhookLatency(client, base, 200)

	fmt.Printf("\n/wait long polls on one gateway (child process, loopback, 2 cores)\n\n")
	fmt.Printf("%-44s %s\n", "concurrent waiters", strconv.Itoa(n))
	fmt.Printf("%-44s %d\n", "answers other than 200", bad)
	if len(lat) > 0 {
		fmt.Printf("%-44s %s\n", "deployed → response, p50", pct(lat, 0.50))
		fmt.Printf("%-44s %s\n", "deployed → response, p99", pct(lat, 0.99))
		fmt.Printf("%-44s %s\n", "deployed → response, max", lat[len(lat)-1].Round(time.Millisecond))
	}
	fmt.Printf("%-44s %s\n", "gateway RSS idle", mb(idleRSS))
	fmt.Printf("%-44s %s\n", "gateway RSS with all waiters parked", mb(parkedRSS))
	fmt.Printf("%-44s %s\n", "gateway peak RSS (VmHWM)", mb(rss(child.Process.Pid, "VmHWM")))
	fmt.Printf("%-44s %s\n", "push webhook → fetch requested, p50", pct(hooks, 0.50))
	fmt.Printf("%-44s %s\n", "push webhook → fetch requested, p99", pct(hooks, 0.99))
	return nil
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

func openWaiters(client *http.Client, base string) int {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "syncgate_wait_open ") {
			f, _ := strconv.ParseFloat(strings.TrimPrefix(line, "syncgate_wait_open "), 64)
			return int(f)
		}
	}
	return 0
}

func rss(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
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

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func pct(d []time.Duration, p float64) string {
	if len(d) == 0 {
		return "n/a"
	}
	i := int(float64(len(d)-1) * p)
	return d[i].Round(100 * time.Microsecond).String()
}
