// Command scale measures what a commit costs the real syncgate binary in
// proportion to what it changes, on a fresh local control plane per build
// and scenario, and prints tables with one column per build:
//
//   - one: a namespace of 1,000 objects (250 each of ConfigMaps, Secrets,
//     Services, 1-replica Deployments): the first sync, then commits
//     changing one ConfigMap, each pushed with a webhook;
//   - many: 100 namespaces of 100 objects: the first sync of all, commits
//     changing one object in one namespace, and a burst of commits each
//     touching 10 namespaces.
//
// The floor of a first sync (a bare bulk create, then the controllers) and
// Flux side by side are measured by bench/flux.
//
// Times run from the webhook's POST to the commit showing deployed in the
// Version of every namespace (watched). The agent reaches kube-apiserver
// through a counting proxy, so its requests (reads, writes, dry runs) and
// its watches (started, open at most) are its own. RSS is read from
// /proc. -bin runs several builds in turn (e.g. main's and this one's).
//
//	go run ./bench/scale [-bin before=/path/a,after=/path/b] [-scenarios one,many] [-commits 20] [-long 0] [-service-links=false] [-profiles DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

type options struct {
	bins       []benchenv.Binary
	scenarios  benchenv.List
	objects    int
	namespaces int
	perNS      int
	commits    int
	burst      int
	touch      int
	long       int
	env        benchenv.List
	// serviceLinks leaves the Deployments' service links on (the default).
	serviceLinks bool
	// profiles is where the agents' heap profiles go; none taken when "".
	profiles string
}

func main() {
	var o options
	var bins string
	o.scenarios = benchenv.List{"one", "many"}
	flag.StringVar(&bins, "bin", "", "builds to measure, name=path,...; default: this tree's ./cmd/syncgate")
	flag.Var(&o.scenarios, "scenarios", "scenarios to run")
	flag.IntVar(&o.objects, "objects", 1000, "objects of the one namespace (scenario one)")
	flag.IntVar(&o.namespaces, "namespaces", 100, "namespaces (scenario many)")
	flag.IntVar(&o.perNS, "per-namespace", 100, "objects per namespace (scenario many)")
	flag.IntVar(&o.commits, "commits", 20, "commits changing one object, one webhook each")
	flag.IntVar(&o.burst, "burst", 5, "commits of the burst (scenario many)")
	flag.IntVar(&o.touch, "touch", 10, "namespaces each burst commit changes")
	flag.IntVar(&o.long, "long", 0, "more one-object commits, printing RSS after each (scenario one)")
	flag.Var(&o.env, "env", "extra settings for the agents, K=V,...")
	flag.StringVar(&o.profiles, "profiles", "", "take the agent's heap profile (in use after a collection) after the first sync and at the end, as DIR/<bin>-<scenario>-{first-sync,end}.pb.gz; the agent then serves its profiles on a loopback DEBUG_ADDR")
	flag.BoolVar(&o.serviceLinks, "service-links", true, "leave the Deployments' service links on; false sets enableServiceLinks: false")
	flag.Parse()
	benchenv.Main(func(ctx context.Context) error { return run(ctx, &o, bins) })
}

func run(ctx context.Context, o *options, bins string) error {
	work, done, err := benchenv.WorkDir("scale", false)
	if err != nil {
		return err
	}
	defer done()
	if o.bins, err = benchenv.Binaries(ctx, bins, work, "this build"); err != nil {
		return err
	}
	for _, sc := range o.scenarios {
		var tables []*table
		for _, b := range o.bins {
			var t *table
			var err error
			switch sc {
			case "one":
				t, err = runOne(ctx, o, b, work)
			case "many":
				t, err = runMany(ctx, o, b, work)
			default:
				return fmt.Errorf("unknown scenario %q", sc)
			}
			if err != nil {
				return fmt.Errorf("%s, %s: %w", sc, b.Name, err)
			}
			tables = append(tables, t)
		}
		printTables(os.Stdout, sc, o.bins, tables)
	}
	return nil
}
