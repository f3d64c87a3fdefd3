// Command memory measures the syncgate agent's memory where issue 16 sets
// targets, and Flux's kustomize-controller's beside it, on one fresh local
// control plane:
//
//   - idle: the agent following a namespace of one object, deployed;
//   - after the first sync of -objects objects (1,000: 250 each of
//     ConfigMaps, Secrets, Services and 1-replica Deployments) into that
//     namespace;
//   - over -commits small commits (one ConfigMap changed, one push
//     webhook each): RSS after each, printed every -every commits with a
//     sparkline of the whole run;
//   - -namespaces namespaces of -per-namespace objects (100 of 100), all
//     deployed.
//
// Each figure is read -settle after the commit showed deployed (Ready for
// Flux): resident total, anonymous (heap, stacks, runtime) and file
// (pages of the executable mapped from the page cache), from
// /proc/<pid>/status, and for syncgate the Go heap in use from its
// /metrics. Flux is given the same objects as a GitRepository artifact
// (see bench/flux); its small commits are slow (seconds each, it
// re-checks every object's health), so it runs -flux-commits of them.
//
// The small commits' figures end with the least-squares slope of each
// over commits 251 on (the caches are full by then), in MB per 100
// commits: flat is a number near 0. -heap-at takes the agent's heap
// profile after the commits it names, for `go tool pprof -base`.
//
//	go run ./bench/memory [-bin before=/path/a,after=/path/b] [-commits 1000] [-flux=true] [-heap-at 250,1000 -profiles dir]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

type options struct {
	bins        []benchenv.Binary
	scenarios   benchenv.List
	objects     int
	namespaces  int
	perNS       int
	commits     int
	every       int
	flux        bool
	syncgate    bool
	fluxCommits int
	settle      time.Duration
	timeout     time.Duration
	env         benchenv.List
	keepLogs    bool
	profiles    *heapProfiles
}

func main() {
	var o options
	var bins, heapAt, profileDir string
	o.scenarios = benchenv.List{"one", "many"}
	flag.StringVar(&bins, "bin", "", "syncgate builds to measure, name=path,...; default: this tree's ./cmd/syncgate")
	flag.Var(&o.scenarios, "scenarios", "scenarios: one (idle, -objects objects, small commits), many (-namespaces × -per-namespace objects)")
	flag.IntVar(&o.objects, "objects", 1000, "objects of the one namespace")
	flag.IntVar(&o.namespaces, "namespaces", 100, "namespaces of scenario many")
	flag.IntVar(&o.perNS, "per-namespace", 100, "objects per namespace of scenario many")
	flag.IntVar(&o.commits, "commits", 1000, "small commits (one ConfigMap changed) after the first sync of scenario one")
	flag.IntVar(&o.every, "every", 50, "print RSS every this many commits")
	flag.BoolVar(&o.flux, "flux", true, "measure Flux's kustomize-controller beside syncgate")
	flag.BoolVar(&o.syncgate, "syncgate", true, "measure syncgate (false: Flux alone)")
	flag.IntVar(&o.fluxCommits, "flux-commits", 20, "small commits for Flux")
	flag.DurationVar(&o.settle, "settle", 10*time.Second, "wait after a sync before reading memory")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "limit for one commit to be deployed")
	flag.Var(&o.env, "env", "extra settings for the agents, K=V,...")
	flag.StringVar(&heapAt, "heap-at", "", "take syncgate's heap profile (in use after a collection) after these small commits, N,...; the agent then serves its profiles on a loopback DEBUG_ADDR")
	flag.StringVar(&profileDir, "profiles", ".", "directory of the -heap-at profiles, <bin>-commit-<N>.pb.gz")
	flag.BoolVar(&o.keepLogs, "keep-logs", false, "keep the work directory with the tools' logs")
	flag.Parse()
	at, err := parseHeapAt(heapAt)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	o.profiles = &heapProfiles{dir: profileDir, at: at}
	benchenv.Main(func(ctx context.Context) error { return run(ctx, &o, bins) })
}

func run(ctx context.Context, o *options, bins string) error {
	work, done, err := benchenv.WorkDir("memory", o.keepLogs)
	if err != nil {
		return err
	}
	defer done()
	if o.bins, err = benchenv.Binaries(ctx, bins, work, "syncgate"); err != nil {
		return err
	}
	e, err := start(ctx, o, work)
	if err != nil {
		return err
	}
	defer e.Close()
	began := time.Now()
	var cols []*column
	// A scenario that fails (a commit not deployed in time, on a loaded
	// machine) is reported, and the others still run; an interrupted run
	// prints what it measured.
	for _, b := range o.bins {
		if o.syncgate && ctx.Err() == nil {
			cols = append(cols, e.measureSyncgate(ctx, b))
		}
	}
	if o.flux && ctx.Err() == nil {
		cols = append(cols, e.measureFlux(ctx))
	}
	fmt.Printf("\nMemory, one run of %s, %s\n\n", time.Since(began).Round(time.Second), benchenv.Load())
	printTable(os.Stdout, o.objects, cols)
	for _, c := range cols {
		printCommits(os.Stdout, c, o.every)
	}
	return ctx.Err()
}

// builds are the binaries of -bin, or this tree's ./cmd/syncgate built
// as `make build` does.
