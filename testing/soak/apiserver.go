package soak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/proc"
)

// apiServer restarts the control plane's kube-apiserver. testing/cluster
// does not offer a restart, but it names its processes (Pids, in start
// order: etcd, then kube-apiserver), so the soak reads the running
// server's command line from /proc, ends it and starts the same command
// again: same flags, port, certificates and etcd, so every client
// reconnects to the same address.
type apiServer struct {
	c    *cluster.Cluster
	rest *rest.Config
	args []string
	env  []string

	mu      sync.Mutex
	origPid int        // the process testing/cluster started, until ended
	own     *proc.Proc // the process the soak started in its place
}

func newAPIServer(c *cluster.Cluster) (*apiServer, error) {
	pids := c.Pids()
	if len(pids) < 2 {
		return nil, errors.New("the cluster names no kube-apiserver process")
	}
	pid := pids[1]
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return nil, fmt.Errorf("read the kube-apiserver command line: %w", err)
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) == 0 || filepath.Base(args[0]) != "kube-apiserver" {
		return nil, fmt.Errorf("process %d is %q, not kube-apiserver", pid, args)
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return nil, fmt.Errorf("read the kube-apiserver environment: %w", err)
	}
	env := strings.Split(strings.TrimRight(string(environ), "\x00"), "\x00")
	return &apiServer{c: c, rest: c.RESTConfig(), args: args, env: env, origPid: pid}, nil
}

// Stop ends the running kube-apiserver gracefully (SIGTERM, SIGKILL after
// 15s) and waits until it is gone.
func (a *apiServer) Stop() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stop()
}

func (a *apiServer) stop() error {
	if a.own != nil {
		a.own.Stop(15 * time.Second)
		a.own = nil
		return nil
	}
	if a.origPid == 0 {
		return nil
	}
	pid := a.origPid
	a.origPid = 0
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(15 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			deadline = time.Now().Add(10 * time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// alive reports whether pid exists and is not a zombie: testing/cluster's
// process reaps its own child.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}

// Start runs the same command again and waits until /readyz answers.
func (a *apiServer) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.own != nil || a.origPid != 0 {
		return nil
	}
	cmd := exec.Command(a.args[0], a.args[1:]...)
	cmd.Env = a.env
	p, err := proc.Start("kube-apiserver", cmd, filepath.Join(a.c.Dir(), "logs", "kube-apiserver.log"))
	if err != nil {
		return err
	}
	a.own = p
	return a.waitReady(ctx, p)
}

func (a *apiServer) waitReady(ctx context.Context, p *proc.Proc) error {
	hc, err := rest.HTTPClientFor(a.rest)
	if err != nil {
		return err
	}
	hc.Timeout = 2 * time.Second
	return p.AwaitReady(ctx, proc.Ready{URL: a.rest.Host + "/readyz", Client: hc, Timeout: 2 * time.Minute})
}

// Close stops a kube-apiserver the soak started, so that the cluster's own
// Stop (which knows only the original process) does not leave it behind.
func (a *apiServer) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.own != nil {
		a.own.Stop(15 * time.Second)
		a.own = nil
	}
}
