package soak

// Waiting for a step to settle: its faults over, its commits answered or
// past their bound, its reports delivered.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/syncgate/syncgate/status/version"
)

// settle waits for the step's faults to end and every commit to be
// answered (or to outlive its bound), then checks the invariants.
func (s *soak) settle(ctx context.Context, faults *sync.WaitGroup) {
	if faults != nil {
		faults.Wait()
	}
	s.reviveReplicas(ctx)
	for ctx.Err() == nil && s.waiting() {
		sleep(ctx, 200*time.Millisecond)
	}
	s.flagStuck()
	s.waitOwed(ctx)
	vs := s.versions(ctx)
	todo := s.liveIncs()
	for _, in := range todo {
		for _, ns := range s.e.namespaces {
			s.mu.Lock()
			o := in.per[ns]
			ready := o.final() && !o.checked
			s.mu.Unlock()
			if ready {
				s.checkAnswer(ctx, in, ns, vs[ns])
			}
		}
	}
	s.checkHead(ctx, vs)
	s.recheck(ctx)
}

// waiting reports whether some commit still has time to be answered.
func (s *soak) waiting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, in := range s.liveLocked() {
		for _, o := range in.per {
			if !o.final() && now.Before(in.pushedAt.Add(s.bound(in, now))) {
				return true
			}
		}
	}
	return false
}

// flagStuck reports every commit past its bound without a final answer.
func (s *soak) flagStuck() {
	vs := s.versions(s.ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, in := range s.liveLocked() {
		for _, ns := range s.e.namespaces {
			o := in.per[ns]
			if o.final() || o.stuck {
				continue
			}
			o.stuck = true
			var missing []string
			for i, a := range o.ans {
				if a.state == "" {
					missing = append(missing, s.e.replicas[i].name)
				}
			}
			hist := "no history entry"
			if v := vs[ns]; v != nil {
				if c := v.Status.Find(in.sha); c != nil {
					hist = fmt.Sprintf("Version says %s %s", c.State, oneLine(c.Reason))
				}
			}
			s.violateLocked(in, ns, "non-final", fmt.Sprintf("no final answer from %s after %s (bound %s; faults %v); %s",
				strings.Join(missing, ", "), now.Sub(in.pushedAt).Round(time.Second), s.bound(in, now).Round(time.Second),
				s.overlapping(in.pushedAt, now), hist))
		}
	}
}

// versions reads every namespace's Version, nil where there is none.
func (s *soak) versions(ctx context.Context) map[string]*version.Version {
	store := version.NewStore(s.e.dyn)
	out := map[string]*version.Version{}
	for _, ns := range s.e.namespaces {
		// After a deletion the Version comes back once a leader writes it
		// again, which may wait for a new leader when the API server
		// restarted too: give it a lease takeover and more.
		s.mu.Lock()
		del := s.deletes[ns]
		s.mu.Unlock()
		recent := !del.IsZero() && time.Since(del) < 2*leaseTakeover+30*time.Second
		tries := 20
		if recent {
			tries = int((2*leaseTakeover + 10*time.Second) / (500 * time.Millisecond))
		}
		for try := 0; try < tries && ctx.Err() == nil; try++ {
			v, err := store.Get(ctx, ns)
			if err == nil {
				out[ns] = v
				if !recent || (v != nil && len(v.Status.History) > 0) {
					break
				}
			}
			sleep(ctx, 500*time.Millisecond)
		}
	}
	return out
}

// waitOwed waits until no report is owed to S3 or the forge, so that both
// can be compared with the answers.
func (s *soak) waitOwed(ctx context.Context) {
	deadline := time.Now().Add(90 * time.Second)
	for ctx.Err() == nil {
		var owed []string
		for ns, v := range s.versions(ctx) {
			if v == nil {
				continue
			}
			for _, o := range v.Status.Owed {
				if o.Permanent {
					s.violate(s.incOf(o.SHA), ns, "owed-permanent", fmt.Sprintf("%s report of %s refused for good: %s", o.Sink, o.State, oneLine(o.LastError)))
					continue
				}
				owed = append(owed, fmt.Sprintf("%s %s %s (%d attempts, %s)", o.Sink, short(o.SHA), o.State, o.Attempts, oneLine(o.LastError)))
			}
		}
		if len(owed) == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.violate(nil, "", "owed", fmt.Sprintf("reports still owed 90s after the step: %s", strings.Join(owed, "; ")))
			return
		}
		sleep(ctx, 250*time.Millisecond)
	}
}
