// Command flux times syncgate and Flux's kustomize-controller on the same
// objects, on the same local control plane, in the same run, and prints
// Markdown tables of medians (and ranges) over the repetitions.
//
//   - one: -objects objects (1,000: 250 each of ConfigMaps, Secrets,
//     Services, 1-replica Deployments, in turn) into a namespace of their
//     own: the first sync (source revision → reported Ready/deployed, the
//     tool running and idle on a one-ConfigMap revision before), then one
//     ConfigMap changed, then the tool's RSS. The floor: the same objects
//     created by a bare bulk create (64 in flight), until the Deployments
//     are Ready.
//   - many: -namespaces namespaces of -per-namespace objects (50 of 20):
//     start → all deployed, then one ConfigMap changed in one namespace.
//
// Flux runs at its defaults and tuned (qps 500, burst 1000, concurrent-ssa
// 64), each run a fresh process, with one GitRepository whose artifact
// status the benchmark writes itself (no source-controller) and
// Kustomizations with prune and wait. syncgate is the real binary
// (./cmd/syncgate) following a repo on git smart HTTP, each commit pushed
// with a webhook, at its defaults and at KUBE_API_QPS=500; "reported
// deployed" is `GET /wait/<sha>` answering. Each run gets fresh namespaces,
// deleted (and waited on) before the next.
//
// With -bin before=/path/a,after=/path/b each syncgate column is measured
// for each of those builds, side by side in the same run, and each is
// compared with Flux and the floor.
//
//	go run ./bench/flux [-reps 3] [-scenarios one,many] [-tools flux,flux-tuned,syncgate,syncgate-qps500,floor] [-bin a=/path,b=/path] [-profiles DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/flux"
)

type options struct {
	reps, manyReps    int
	objects           int
	namespaces, perNS int
	scenarios, tools  benchenv.List
	timeout           time.Duration
	keepLogs, verbose bool
	bins              string // -bin: name=path,...
	profiles          string // -profiles: where CPU profiles of first syncs go
	profileFor        time.Duration
}

func main() {
	o := options{scenarios: benchenv.List{"one", "many"}, tools: toolNames()}
	flag.IntVar(&o.reps, "reps", 3, "repetitions of each tool in scenario one")
	flag.IntVar(&o.manyReps, "many-reps", 0, "repetitions in scenario many (default -reps)")
	flag.IntVar(&o.objects, "objects", 1000, "objects of scenario one")
	flag.IntVar(&o.namespaces, "namespaces", 50, "namespaces of scenario many")
	flag.IntVar(&o.perNS, "per-namespace", 20, "objects per namespace in scenario many")
	flag.Var(&o.scenarios, "scenarios", "scenarios to run: one, many")
	flag.Var(&o.tools, "tools", "columns to measure")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "longest a sync may take")
	flag.BoolVar(&o.keepLogs, "keep-logs", false, "keep the work directory (tool logs) and print its path")
	flag.BoolVar(&o.verbose, "v", false, "print control plane progress")
	flag.StringVar(&o.bins, "bin", "", "syncgate builds to measure side by side, name=path,...; default: this tree's ./cmd/syncgate")
	flag.StringVar(&o.profiles, "profiles", "", "take CPU profiles of the API server (and of syncgate, which then serves its profiles on a loopback DEBUG_ADDR) during each first sync of scenario one, as DIR/<namespace>-{apiserver,agent}.pb.gz")
	flag.DurationVar(&o.profileFor, "profile-for", 8*time.Second, "length of each -profiles CPU profile, from the first sync's start")
	flag.Parse()
	if o.manyReps <= 0 {
		o.manyReps = o.reps
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	benchenv.Main(func(ctx context.Context) error { return run(ctx, o) })
}

func (o options) check() error {
	for _, s := range o.scenarios {
		if s != "one" && s != "many" {
			return fmt.Errorf("-scenarios: unknown scenario %q (one, many)", s)
		}
	}
	for _, t := range o.tools {
		if _, ok := toolByName(t); !ok {
			return fmt.Errorf("-tools: unknown tool %q (%s)", t, strings.Join(toolNames(), ", "))
		}
	}
	if o.profiles != "" && o.profileFor < time.Second {
		return fmt.Errorf("-profile-for: at least 1s")
	}
	if o.objects < 4 || o.perNS < 4 || o.namespaces < 1 || o.reps < 1 {
		return fmt.Errorf("-objects and -per-namespace need at least 4 (one of each kind), -namespaces and -reps at least 1")
	}
	return nil
}

// env is what every run shares: one control plane, one git server, one
// artifact server, the syncgate binary.
type env struct {
	*benchenv.Beside
	o        options
	work     string
	bin      string
	runs     int // names each run's namespaces and repos apart
	fluxVers string
	bins     []benchenv.Binary // -bin's builds; none: this tree's
}

func run(ctx context.Context, o options) error {
	work, done, err := benchenv.WorkDir("flux", o.keepLogs)
	if err != nil {
		return err
	}
	defer done()
	e := &env{o: o, work: work}
	if o.bins == "" {
		if e.bin, err = benchenv.Build(ctx, work); err != nil {
			return err
		}
	} else {
		bins, err := benchenv.Binaries(ctx, o.bins, work, "")
		if err != nil {
			return err
		}
		allTools, e.o.tools = perBinary(allTools, o.tools, bins)
		e.bins = bins
	}
	var log io.Writer // the control plane's progress, with -v
	if o.verbose {
		log = os.Stderr
	}
	if e.Beside, err = benchenv.StartBeside(ctx, agentNamespace, true, log); err != nil {
		return err
	}
	defer e.Close()
	if e.fluxVers, err = flux.KustomizeController.Version(); err != nil {
		return err
	}

	began := time.Now()
	var tables []func()
	for _, s := range o.scenarios {
		switch s {
		case "one":
			r, err := e.scenarioOne(ctx)
			if err != nil {
				return err
			}
			tables = append(tables, func() { e.reportOne(os.Stdout, r) })
		case "many":
			r, err := e.scenarioMany(ctx)
			if err != nil {
				return err
			}
			tables = append(tables, func() { e.reportMany(os.Stdout, r) })
		}
	}
	fmt.Printf("\n%s against Flux kustomize-controller %s, same control plane, one run of %s, %s\n",
		subject(e.bins), e.fluxVers, time.Since(began).Round(time.Second), benchenv.Load())
	for _, t := range tables {
		t()
	}
	return nil
}

// rotated is the tools in a different order each repetition, so a trend
// in the machine's load does not always hit the same tool.
func rotated(tools []string, rep int) []string {
	n := len(tools)
	out := make([]string, n)
	for i := range tools {
		out[i] = tools[(i+rep)%n]
	}
	return out
}
