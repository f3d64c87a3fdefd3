// Command shards measures replicas of the real syncgate binary sharing
// namespaces, on one local control plane, and prints a table with one
// column per scenario:
//
//   - leader: -replicas replicas without SHARDS: one leader (the holder of
//     Lease syncgate-leader) applies every namespace, the others fetch,
//     announce and answer /wait;
//   - sharded: the same replicas with SHARDS=-shards: each leads its share
//     of the shards' Leases and applies their namespaces only.
//
// Each scenario gets the same -namespaces namespaces (deleted and made
// again between scenarios) and a config repo of its own on a git server:
// a first sync of -per-namespace objects in every namespace, then a series
// of -commits commits, each touching -touch namespaces, at most -window of
// them waiting at once, webhooks posted to the live replicas in turn. The
// sharded scenario then runs the series again and SIGKILLs one replica
// half-way: how long until its shards are led again (against
// LEASE_DURATION), and whether every commit still got exactly one final
// answer per namespace, from the Versions (history entries, verdicts seen
// changing) and from /wait on every live replica.
//
// Each replica reaches kube-apiserver through a counting proxy of its own,
// so requests are per replica; RSS is read from /proc; which replica worked
// on which namespace is read from their logs ("commit applied", "commit
// deployed") and held against the shards' Lease holders.
//
//	go run ./bench/shards [-keep-logs] [-namespaces 60] [-per-namespace 20] [-replicas 3] [-shards 6] [-commits 20] [-touch 10] [-window 3] [-scenarios leader,sharded]
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
	namespaces, perNS, replicas, shards int
	commits, touch, window              int
	lease                               time.Duration
	scenarios                           benchenv.List
	keepLogs                            bool
}

func main() {
	o := options{scenarios: benchenv.List{"leader", "sharded"}}
	flag.IntVar(&o.namespaces, "namespaces", 60, "managed namespaces")
	flag.IntVar(&o.perNS, "per-namespace", 20, "objects per namespace (a quarter of them 1-replica Deployments)")
	flag.IntVar(&o.replicas, "replicas", 3, "replicas of syncgate, in both scenarios")
	flag.IntVar(&o.shards, "shards", 6, "SHARDS of the sharded scenario")
	flag.IntVar(&o.commits, "commits", 20, "commits of a series (at most 24: two series and two first commits fit a Version's history of 50)")
	flag.IntVar(&o.touch, "touch", 10, "namespaces each commit of a series changes")
	flag.IntVar(&o.window, "window", 3, "commits of a series waiting at once (pushed, not yet deployed everywhere)")
	flag.DurationVar(&o.lease, "lease", 15*time.Second, "LEASE_DURATION of the replicas")
	flag.Var(&o.scenarios, "scenarios", "scenarios to run")
	flag.BoolVar(&o.keepLogs, "keep-logs", false, "keep the work directory with the replicas' logs")
	flag.Parse()
	if o.commits > 24 || o.touch > o.namespaces || o.replicas < 2 {
		fmt.Fprintln(os.Stderr, "bench: -commits at most 24, -touch at most -namespaces, -replicas at least 2")
		os.Exit(2)
	}
	benchenv.Main(func(ctx context.Context) error { return run(ctx, &o) })
}

func run(ctx context.Context, o *options) error {
	work, done, err := benchenv.WorkDir("shards", o.keepLogs)
	if err != nil {
		return err
	}
	defer done()
	bins, err := benchenv.Binaries(ctx, "", work, "this build")
	if err != nil {
		return err
	}
	w, err := startWorld(ctx, o, bins[0].Path, work)
	if err != nil {
		return err
	}
	defer w.close()
	var tables []*benchenv.Column
	var headings []string
	for _, sc := range o.scenarios {
		var shards int
		switch sc {
		case "leader":
			shards = 1
		case "sharded":
			shards = o.shards
		default:
			return fmt.Errorf("unknown scenario %q", sc)
		}
		t, err := w.scenario(ctx, sc, shards)
		if err != nil {
			return fmt.Errorf("%s: %w", sc, err)
		}
		tables = append(tables, t)
		headings = append(headings, fmt.Sprintf("%s (SHARDS=%d)", sc, shards))
	}
	benchenv.PrintColumns(os.Stdout, fmt.Sprintf("%d replicas, %d namespaces × %d objects, series of %d commits × %d namespaces (window %d), LEASE_DURATION %s; %s",
		o.replicas, o.namespaces, o.perNS, o.commits, o.touch, o.window, o.lease, benchenv.Load()), headings, tables)
	return nil
}
