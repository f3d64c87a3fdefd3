package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

// runOne: one namespace of o.objects objects.
func runOne(ctx context.Context, o *options, b benchenv.Binary, work string) (*table, error) {
	const ns = "bench-one"
	e, err := setup(ctx, o, b, work, []string{ns}, changed(ns, 0))
	if err != nil {
		return nil, err
	}
	defer e.close()
	t := newTable()
	t.Add("RSS idle (one object deployed)", "%s", e.agent.RSS())

	before := e.agent.Proxy.Snapshot()
	mark := e.logMark()
	took, err := e.deploy(ctx, "all objects", o.files(ns, o.objects, 0), 10*time.Minute)
	if err != nil {
		return nil, err
	}
	t.Add(fmt.Sprintf("first sync of %d objects, webhook → deployed", o.objects), "%s", secs(took))
	t.Add("  where it went, ms", "%s", e.spansSince(mark))
	t.Counted("first sync", e.agent.Proxy.Snapshot().Minus(before))
	t.Add("RSS after the first sync", "%s", e.agent.RSS())
	e.heapProfile(ctx, o, "one-first-sync")

	before = e.agent.Proxy.Snapshot()
	mark = e.logMark()
	var ds []time.Duration
	for i := 1; i <= o.commits; i++ {
		d, err := e.deploy(ctx, fmt.Sprintf("change %d", i), changed(ns, i), 5*time.Minute)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	e.commitFigures(t, "one ConfigMap changed", "  where it went, ms (medians)", ds, mark, before)
	t.Add(fmt.Sprintf("RSS after %d small commits", o.commits), "%s", e.agent.RSS())

	if o.long > 0 {
		var anons []float64
		for i := 1; i <= o.long; i++ {
			if _, err := e.deploy(ctx, fmt.Sprintf("long %d", i), changed(ns, o.commits+i), 5*time.Minute); err != nil {
				return nil, err
			}
			total, anon := e.agent.Memory()
			anons = append(anons, anon)
			fmt.Fprintf(os.Stderr, "%s commit %d RSS %.1f MB anon %.1f MB\n", b.Name, i, total, anon)
		}
		t.Add(fmt.Sprintf("anon RSS over %d more commits: first, min, max, last tenth's mean", o.long), "%s", spread(anons))
		t.Add(fmt.Sprintf("RSS after %d more commits", o.long), "%s", e.agent.RSS())
	}
	e.heapProfile(ctx, o, "one-end")
	return t, nil
}

// runMany: o.namespaces namespaces of o.perNS objects.
func runMany(ctx context.Context, o *options, b benchenv.Binary, work string) (*table, error) {
	namespaces := make([]string, o.namespaces)
	first := map[string]string{}
	all := map[string]string{}
	for i := range namespaces {
		namespaces[i] = fmt.Sprintf("bench-m%03d", i)
		maps.Copy(first, changed(namespaces[i], 0))
		maps.Copy(all, o.files(namespaces[i], o.perNS, 0))
	}
	e, err := setup(ctx, o, b, work, namespaces, first)
	if err != nil {
		return nil, err
	}
	defer e.close()
	t := newTable()
	t.Add(fmt.Sprintf("RSS idle (%d namespaces of one object)", o.namespaces), "%s", e.agent.RSS())

	before := e.agent.Proxy.Snapshot()
	took, err := e.deploy(ctx, "all objects", all, 15*time.Minute)
	if err != nil {
		return nil, err
	}
	t.Add(fmt.Sprintf("first sync of %d × %d objects, webhook → all deployed", o.namespaces, o.perNS), "%s", secs(took))
	t.Counted("first sync", e.agent.Proxy.Snapshot().Minus(before))
	t.Add("RSS after the first sync", "%s", e.agent.RSS())
	e.heapProfile(ctx, o, "many-first-sync")

	rev := map[string]int{}
	bump := func(ns string) map[string]string {
		rev[ns]++
		return changed(ns, rev[ns])
	}
	before = e.agent.Proxy.Snapshot()
	writes := e.vs.WritesTo(namespaces)
	mark := e.logMark()
	var ds, ins []time.Duration
	for i := range o.commits {
		ns := namespaces[i%len(namespaces)]
		d, in, err := e.deployIn(ctx, fmt.Sprintf("change %d", i), bump(ns), ns, 5*time.Minute)
		if err != nil {
			return nil, err
		}
		ds, ins = append(ds, d), append(ins, in)
	}
	e.commitFigures(t, "one object changed in one namespace", "  where it went in that namespace, ms (medians)", ds, mark, before)
	t.Add("  webhook → that namespace deployed: p50 / p99 / max", "%s", percentiles(ins))
	t.Add("  Version writes per commit, all namespaces", "%.1f", float64(e.vs.WritesTo(namespaces)-writes)/float64(o.commits))

	touched := map[string]bool{}
	for i := range o.burst * o.touch {
		touched[namespaces[i%len(namespaces)]] = true
	}
	var untouched []string
	for _, ns := range namespaces {
		if !touched[ns] {
			untouched = append(untouched, ns)
		}
	}
	before = e.agent.Proxy.Snapshot()
	writes = e.vs.WritesTo(namespaces)
	untouchedWrites := e.vs.WritesTo(untouched)
	var sha string
	var at time.Time
	for i := range o.burst {
		files := map[string]string{}
		for j := range o.touch {
			ns := namespaces[(i*o.touch+j)%len(namespaces)]
			maps.Copy(files, bump(ns))
		}
		s, pushed, err := e.push(ctx, fmt.Sprintf("burst %d", i), files)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			at = pushed
		}
		sha = s
	}
	done, err := e.vs.Await(ctx, sha, namespaces, 10*time.Minute)
	if err != nil {
		return nil, fmt.Errorf("burst: %w\n%s", err, e.agent.LogTail(3000))
	}
	burstWrites := e.vs.WritesTo(namespaces) - writes
	untouchedWrites = e.vs.WritesTo(untouched) - untouchedWrites
	t.Add(fmt.Sprintf("burst of %d commits × %d namespaces, first webhook → last deployed", o.burst, o.touch), "%s", secs(done.Sub(at)))
	t.Counted("burst", e.agent.Proxy.Snapshot().Minus(before))
	t.Add("  Version writes, all namespaces", "%d", burstWrites)
	if len(untouched) > 0 {
		t.Add(fmt.Sprintf("  Version writes per untouched namespace (%d of them)", len(untouched)), "%.1f", float64(untouchedWrites)/float64(len(untouched)))
	}
	t.Add("RSS at the end", "%s", e.agent.RSS())
	e.heapProfile(ctx, o, "many-end")
	return t, nil
}

// spread summarizes RSS samples: the first, the least, the most, and the
// mean of the last tenth (growth shows as a last tenth above the first).
func spread(xs []float64) string {
	low, high := xs[0], xs[0]
	for _, x := range xs {
		low, high = min(low, x), max(high, x)
	}
	tail := xs[len(xs)-max(1, len(xs)/10):]
	sum := 0.0
	for _, x := range tail {
		sum += x
	}
	return fmt.Sprintf("%.0f, %.0f, %.0f, %.1f MB", xs[0], low, high, sum/float64(len(tail)))
}

// commitFigures adds the figures of small commits that took ds: their
// spread, where the time went since the log's mark, and what each cost
// in API requests and watches since before.
func (e *env) commitFigures(t *table, what, where string, ds []time.Duration, mark int64, before benchenv.Counts) {
	n := float64(len(ds))
	t.Add(fmt.Sprintf("%s, %d commits: p50 / p99 / max", what, len(ds)), "%s", percentiles(ds))
	t.Add(where, "%s", e.spansSince(mark))
	c := e.agent.Proxy.Snapshot().Minus(before)
	t.Add("  API requests per commit", "%.1f", float64(c.Requests())/n)
	t.Add("  watches started per commit", "%.1f", float64(c.WatchesStarted)/n)
	t.Add("  Version write requests / KiB sent per commit", "%.1f / %.1f", float64(c.VersionWrites)/n, float64(c.VersionBytes)/1024/n)
}
