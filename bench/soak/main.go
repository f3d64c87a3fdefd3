// Command soak runs syncgate's seeded fault-injection soak on a fresh local
// control plane and prints a table: commits by kind and how they were
// answered, faults by kind, time to a final answer, and every violated
// invariant with its commit. It exits 1 when there is a violation.
//
//	go run ./bench/soak [-seed N] [-commits 200] [-namespaces 2] [-faults all] [-max-duration 90m]
//	go run ./bench/soak -seed N -plan   # what the seed pushes and injects, without running
//
// The same -seed pushes the same commits (same shas) and draws the same
// faults; see testing/soak for what is pushed, injected and checked.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/soak"
)

func main() { os.Exit(run()) }

func run() int {
	var o soak.Options
	var faults, kinds, binary string
	var keep, plan bool
	flag.Int64Var(&o.Seed, "seed", time.Now().UnixNano()%1_000_000, "seed of the commits and faults (default: from the clock, printed)")
	flag.IntVar(&o.Commits, "commits", 200, "commits to push")
	flag.IntVar(&o.Namespaces, "namespaces", 2, "managed namespaces (1 or 2)")
	flag.DurationVar(&o.HealthTimeout, "health-timeout", 30*time.Second, "syncgate's HEALTH_TIMEOUT")
	flag.DurationVar(&o.PollInterval, "poll", 2*time.Second, "syncgate's GIT_SYNC_INTERVAL")
	flag.DurationVar(&o.MaxDuration, "max-duration", 90*time.Minute, "stop pushing after this long (0: no limit); what was pushed is still checked")
	flag.Float64Var(&o.FaultRate, "fault-rate", 0.45, "chance of a fault in each step")
	flag.StringVar(&faults, "faults", "all", "comma-separated faults to inject, all or none: kill-leader, kill-follower, apiserver-restart, git-down, s3-down, forge-5xx, forge-429, version-deleted")
	flag.StringVar(&kinds, "kinds", "all", "comma-separated commit kinds to push, all: good, render-refusal, api-refusal, crashloop, prune-only, comment-only, rollback, burst")
	flag.StringVar(&binary, "syncgate", "", "syncgate binary (default: built from this tree)")
	flag.StringVar(&o.LogLevel, "log-level", "info", "syncgate's LOG_LEVEL")
	flag.BoolVar(&keep, "keep", false, "keep logs and data even without violations")
	flag.BoolVar(&plan, "plan", false, "print the commits and faults the seed draws, run nothing")
	flag.Parse()
	var err error
	if o.Faults, err = soak.ParseFaults(faults); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 2
	}
	if o.Kinds, err = soak.ParseKinds(kinds); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 2
	}
	o.Binary = binary
	o.Log = os.Stderr
	if plan {
		fmt.Print(soak.Plan(o))
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.WorkDir, err = os.MkdirTemp("", "syncgate-soak-"); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 2
	}
	fmt.Fprintf(os.Stderr, "soak: seed %d; starting the local control plane...\n", o.Seed)
	c, err := cluster.Start(ctx, cluster.Options{Dir: o.WorkDir + "/cluster", Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 2
	}
	o.Cluster = c
	rep, err := soak.Run(ctx, o)
	c.Stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		fmt.Fprintf(os.Stderr, "soak: logs in %s\n", o.WorkDir)
		return 2
	}
	rep.Print(os.Stdout)
	if len(rep.Violations) == 0 && !keep {
		_ = os.RemoveAll(o.WorkDir)
	}
	if len(rep.Violations) > 0 {
		return 1
	}
	return 0
}
