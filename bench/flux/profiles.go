package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/proc"
)

// cpuProfiles takes CPU profiles, for -profile-seconds from now, of the
// API server and, when agent is not empty (a syncgate column's
// DEBUG_ADDR), of the agent, into -profiles as
// <name>-{apiserver,agent}.pb.gz: where a first sync's CPU goes on a
// control plane whose two cores it shares. Read them with `go tool pprof
// -top`. It returns a func that waits for both to be written; failures
// are printed, the figures still count. Without -profiles it does nothing.
func (e *env) cpuProfiles(ctx context.Context, name, agent string) (wait func()) {
	if e.o.profiles == "" {
		return func() {}
	}
	secs := strconv.Itoa(int(e.o.profileFor.Seconds()))
	var wg sync.WaitGroup
	wg.Go(func() {
		b, err := e.Kube.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", secs).DoRaw(ctx)
		if err == nil {
			err = os.WriteFile(filepath.Join(e.o.profiles, name+"-apiserver.pb.gz"), b, 0o644)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: API server profile: %v\n", name, err)
		}
	})
	if agent != "" {
		wg.Go(func() {
			if err := benchenv.WriteCPUProfile(ctx, agent, secs, e.o.profiles, name+"-agent"); err != nil {
				fmt.Fprintf(os.Stderr, "%s: agent profile: %v\n", name, err)
			}
		})
	}
	return wg.Wait
}

// cpuUsed starts counting the CPU time the control plane's processes, the
// tool's (pid; 0: none but the bench) and the bench's own use; the func
// returned says how much they used since. On two cores they share, a
// tool's speed is mostly what it leaves the controllers: the floor's
// bulk create is the least a sync can cost. A process that cannot be read
// counts nothing, and says so.
func (e *env) cpuUsed(pid int) func() time.Duration {
	pids := append(e.Cluster.Pids(), os.Getpid())
	if pid != 0 {
		pids = append(pids, pid)
	}
	read := func() time.Duration {
		var sum time.Duration
		for _, p := range pids {
			d, err := proc.CPU(p)
			if err != nil {
				fmt.Fprintf(os.Stderr, "CPU of %d: %v\n", p, err)
			}
			sum += d
		}
		return sum
	}
	before := read()
	return func() time.Duration { return read() - before }
}
