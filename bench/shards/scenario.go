package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/sync/shard"
)

// scenario runs one scenario on fresh namespaces and a repo of its own,
// and deletes the namespaces after.
func (w *world) scenario(ctx context.Context, name string, shards int) (*benchenv.Column, error) {
	fmt.Fprintf(os.Stderr, "%s: %d replicas, SHARDS=%d\n", name, w.o.replicas, shards)
	if err := w.makeNamespaces(ctx); err != nil {
		return nil, err
	}
	repo, err := w.git.CreateRepo("config-" + name)
	if err != nil {
		return nil, err
	}
	first, err := repo.CommitFiles(name+": first", w.firstFiles())
	if err != nil {
		return nil, err
	}
	s := &trial{name: name, w: w, repo: repo, shards: shards, rev: map[string]int{}}
	started := time.Now()
	if s.rs, err = w.startReplicas(ctx, name, shards, w.git.HTTPURL(repo.Name)); err != nil {
		return nil, err
	}
	defer func() { stopReplicas(s.rs) }()
	if _, err := w.await(ctx, first, 5*time.Minute); err != nil {
		return nil, fmt.Errorf("first commit: %w", err)
	}
	h0, err := w.awaitHolders(ctx, shards, 2*time.Minute, balanced(s.live()))
	if err != nil {
		return nil, err
	}
	t := benchenv.NewColumn()
	t.Add("replicas started → first commit deployed, shares of the Leases held", "%s", benchenv.Secs(time.Since(started)))
	t.Add("shards each replica leads", "%s", ledText(h0))
	if err := s.measure(ctx, t, h0); err != nil {
		return nil, err
	}
	stopReplicas(s.rs)
	s.rs = nil
	if err := benchenv.DeleteNamespaces(ctx, w.kube, w.namespaces); err != nil {
		return nil, err
	}
	return t, nil
}

// measure runs the phases after the first commit: the first sync of all
// objects, the series, and with shards the series with a SIGKILL; then the
// checks.
func (s *trial) measure(ctx context.Context, t *benchenv.Column, h0 []string) error {
	before := s.counts()
	sha, at, err := s.push(ctx, s.name+": all objects", s.w.allFiles())
	if err != nil {
		return err
	}
	done, err := s.w.await(ctx, sha, 15*time.Minute)
	if err != nil {
		return fmt.Errorf("first sync: %w", err)
	}
	t.Add(fmt.Sprintf("first sync of %d × %d objects, webhook → all deployed", len(s.w.namespaces), s.w.o.perNS), "%s", benchenv.Secs(done.Sub(at)))
	s.perReplica(t, "first sync", before)
	steady := []string{sha}

	before = s.counts()
	res, err := s.series(ctx, "series", nil)
	if err != nil {
		return err
	}
	steady = append(steady, res.shas...)
	s.seriesRows(t, "series", res)
	s.perReplica(t, "series", before)
	if err := s.ownership(ctx, t, "first sync and series", steady, h0); err != nil {
		return err
	}
	all := steady
	if s.shards > 1 {
		killed, err := s.kill(ctx, t, h0)
		if err != nil {
			return err
		}
		all = append(all, killed...)
	}
	return s.check(ctx, t, all)
}

// counts are the replicas' API counts now.
func (s *trial) counts() []benchenv.Counts {
	out := make([]benchenv.Counts, len(s.rs))
	for i, r := range s.rs {
		out[i] = r.Proxy.Snapshot()
	}
	return out
}

// perReplica adds each replica's API requests since before, and its RSS.
func (s *trial) perReplica(t *benchenv.Column, phase string, before []benchenv.Counts) {
	now := s.counts()
	var parts, rss []string
	for i, r := range s.rs {
		c := now[i].Minus(before[i])
		parts = append(parts, fmt.Sprintf("%d (%d/%d/%d)", c.Requests(), c.Reads, c.Writes, c.DryRuns))
		if !r.killed {
			total, _ := r.Memory()
			rss = append(rss, fmt.Sprintf("%.0f", total))
		} else {
			rss = append(rss, "killed")
		}
	}
	t.Add(phase+": API requests per replica, all (reads/writes/dry runs)", "%s", strings.Join(parts, "; "))
	t.Add(phase+": RSS per replica after, MB", "%s", strings.Join(rss, " / "))
}

func (s *trial) seriesRows(t *benchenv.Column, label string, res seriesResult) {
	t.Add(fmt.Sprintf("%s of %d commits × %d namespaces: commits/min", label, len(res.shas), s.w.o.touch), "%.1f (%s)", res.perMinute(), benchenv.Secs(res.took))
	t.Add(label+": webhook → all deployed, p50 / p99 / max", "%s", benchenv.Percentiles(res.latency))
}

// ledText lists the shards each replica leads.
func ledText(h []string) string {
	m := led(h)
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s: %v", n, m[n]))
	}
	return strings.Join(parts, "; ")
}

// shardOf is the shard of namespace with s's SHARDS.
func (s *trial) shardOf(ns string) int { return shard.Of(ns, s.shards) }
