package main

import (
	"context"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/flux"
)

// tool is one column of the tables.
type tool struct {
	name, column string
	kind         string // "flux", "syncgate" or "floor"
	tuning       flux.Tuning
	env          []string // syncgate's settings beyond the bench's own
	bin          string   // syncgate's binary; empty: this tree's build
}

var allTools = []tool{
	{name: "flux", column: "Flux, defaults", kind: "flux"},
	{name: "flux-tuned", column: "Flux, qps 500 / burst 1000 / concurrent-ssa 64", kind: "flux",
		tuning: flux.Tuning{QPS: 500, Burst: 1000, ConcurrentSSA: 64}},
	{name: "syncgate", column: "syncgate, defaults", kind: "syncgate"},
	{name: "syncgate-qps500", column: "syncgate, qps 500", kind: "syncgate", env: []string{"KUBE_API_QPS=500"}},
	{name: "floor", column: "bare bulk create (floor)", kind: "floor"},
}

// perBinary makes each syncgate column of names one column per build of
// bins, named "<tool>-<build>" (a part of namespace names) (the other columns as they are), and
// returns the names to measure; the tools are added to tools.
func perBinary(tools []tool, names []string, bins []benchenv.Binary) ([]tool, []string) {
	if len(bins) == 0 {
		return tools, names
	}
	var out []string
	for _, name := range names {
		t, ok := lookup(tools, name)
		if !ok || t.kind != "syncgate" {
			out = append(out, name)
			continue
		}
		for _, b := range bins {
			bt := t
			bt.name, bt.column, bt.bin = t.name+"-"+b.Name, t.column+" ("+b.Name+")", b.Path
			tools = append(tools, bt)
			out = append(out, bt.name)
		}
	}
	return tools, out
}

func toolNames() []string {
	var out []string
	for _, t := range allTools {
		out = append(out, t.name)
	}
	return out
}

func toolByName(name string) (tool, bool) { return lookup(allTools, name) }

func lookup(tools []tool, name string) (tool, bool) {
	for _, t := range tools {
		if t.name == name {
			return t, true
		}
	}
	return tool{}, false
}

// target is a GitOps tool following a source whose files are laid out one
// directory per namespace, the directory named as the namespace.
type target interface {
	// publish makes files the source's next revision: a push (and, when
	// the tool runs, its webhook) or a new artifact. It returns the
	// revision and when it was published.
	publish(ctx context.Context, files map[string]string) (rev string, at time.Time, err error)
	// start runs the tool.
	start(ctx context.Context) error
	// await waits until the tool reports rev deployed in ns, or in all its
	// namespaces when ns is empty, and returns when it did.
	await(ctx context.Context, rev, ns string) (time.Time, error)
	// rss is the tool's resident memory now.
	rss() (int64, error)
	// pid is the tool's process.
	pid() int
	// stop ends the tool and forgets its objects (not what it applied).
	stop(ctx context.Context) error
}

func (e *env) newTarget(ctx context.Context, t tool, namespaces []string) (target, error) {
	if t.kind == "flux" {
		return e.newFluxTarget(ctx, t, namespaces)
	}
	return e.newSyncgateTarget(ctx, t, namespaces)
}
