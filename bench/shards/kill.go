package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/sync/shard"
)

// moved is when a killed replica's shards were all led again, and by whom.
type moved struct {
	holders []string
	at      time.Time
	err     error
}

// kill runs the series again and SIGKILLs, halfway, the replica leading
// the first namespace's shard; it returns the series' commits.
func (s *trial) kill(ctx context.Context, t *benchenv.Column, h0 []string) ([]string, error) {
	name := h0[s.shardOf(s.w.namespaces[0])]
	i := slices.IndexFunc(s.rs, func(r *replica) bool { return r.name == name })
	if i < 0 {
		return nil, fmt.Errorf("no replica %q leads shard %d", name, s.shardOf(s.w.namespaces[0]))
	}
	victim := s.rs[i]
	var killedAt time.Time
	done := make(chan moved, 1)
	halfway := func() {
		victim.Kill()
		victim.killed = true
		killedAt = time.Now()
		fmt.Fprintf(os.Stderr, "SIGKILL %s\n", name)
		go func() {
			h, err := s.w.awaitHolders(ctx, s.shards, 3*time.Minute, func(h []string) bool {
				for i := range h0 {
					if h0[i] == name && (h[i] == "" || h[i] == name) {
						return false
					}
				}
				return true
			})
			done <- moved{h, time.Now(), err}
		}()
	}
	before := s.counts()
	res, err := s.series(ctx, "kill series", halfway)
	if err != nil {
		return nil, err
	}
	m := <-done
	if m.err != nil {
		return nil, m.err
	}
	var its []int
	nss := 0
	for i, x := range h0 {
		if x == name {
			its = append(its, i)
			nss += len(shard.Split(s.w.namespaces, s.shards)[i])
		}
	}
	t.Add("SIGKILL: the replica, before commit", "%s (shards %v, %d namespaces), %d of %d", name, its, nss, s.w.o.commits/2+1, s.w.o.commits)
	t.Add("SIGKILL → its shards led again (LEASE_DURATION)", "%s (%s)", benchenv.Secs(m.at.Sub(killedAt)), s.w.o.lease)
	s.seriesRows(t, "series with the SIGKILL", res)
	s.perReplica(t, "series with the SIGKILL", before)
	after, err := s.w.awaitHolders(ctx, s.shards, 2*time.Minute, balanced(s.live()))
	if err != nil {
		return nil, err
	}
	t.Add("shards each replica leads after", "%s", ledText(after))
	return res.shas, s.ownership(ctx, t, "series with the SIGKILL", res.shas, h0, m.holders, after)
}

// ownership adds, for a phase's commits, the namespaces each replica's
// workers did something for, and how many of them were outside the shards
// it led at one of the times holders were read (the first of them read
// before the phase).
func (s *trial) ownership(ctx context.Context, t *benchenv.Column, phase string, shas []string, holders ...[]string) error {
	now, err := s.w.holders(ctx, s.shards)
	if err != nil {
		return err
	}
	if len(holders) == 1 {
		t.Add(phase+": Lease holders unchanged", "%v", slices.Equal(now, holders[0]))
	}
	holders = append(holders, now)
	var parts []string
	pairs := map[string]int{}
	for _, r := range s.rs {
		wk, err := readWork(r.log)
		if err != nil {
			return err
		}
		n, example := wk.outside(shas, func(ns string) bool {
			return slices.ContainsFunc(holders, func(h []string) bool { return h[s.shardOf(ns)] == r.name })
		})
		if n > 0 {
			fmt.Fprintf(os.Stderr, "%s worked on %s, not of its shards\n", r.name, example)
		}
		parts = append(parts, fmt.Sprintf("%s %d (%d)", r.name, wk.namespaces(shas), n))
		for ns, done := range wk {
			for _, sha := range shas {
				if done[sha] {
					pairs[ns+"/"+sha]++
				}
			}
		}
	}
	twice := 0
	for _, n := range pairs {
		if n > 1 {
			twice++
		}
	}
	t.Add(phase+": namespaces each replica worked on (outside its shards)", "%s", strings.Join(parts, "; "))
	t.Add(phase+": (namespace, commit) worked on by two replicas", "%d of %d", twice, len(pairs))
	return nil
}
