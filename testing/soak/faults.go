package soak

import (
	"context"
	"fmt"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status/version"
)

// faultPlan is one fault, drawn from the fault RNG before the step runs.
type faultPlan struct {
	kind   FaultKind
	offset time.Duration // after the step's first push
	dur    time.Duration // outage, or the time a killed replica stays down
	n      int           // forge-429: picks Retry-After
	code   int           // forge-5xx: the status
	ns     int           // version-deleted: which namespace
}

// faultRecord is a fault as it happened.
type faultRecord struct {
	kind       FaultKind
	step       int
	start, end time.Time
	note       string
}

// leaseTakeover is how long a Lease can outlive its holder: syncgate's
// LeaseDuration (15s) plus a RetryPeriod (2s).
const leaseTakeover = 17 * time.Second

// disrupts reports whether the fault stops commits being applied or
// recorded (not only reported).
func (f *faultRecord) disrupts() bool {
	switch f.kind {
	case KillLeader, APIRestart, GitDown, VersionDelete:
		return true
	}
	return false
}

// takeover is how long after a fault ends syncgate may still be catching
// up with it: a new leader, a poll of the branch.
func (s *soak) takeover(k FaultKind) time.Duration {
	switch k {
	case KillLeader, APIRestart:
		return leaseTakeover
	case GitDown:
		return s.opts.PollInterval
	case VersionDelete:
		return 5 * time.Second
	}
	return 0
}

// planFaults draws the same number of values every step, so a seed gives
// the same faults whatever the run's timing.
func (s *soak) planFaults() []faultPlan {
	var out []faultPlan
	for i := range 2 {
		p := faultPlan{
			offset: time.Duration(s.frng.IntN(4000)) * time.Millisecond,
			dur:    2*time.Second + time.Duration(s.frng.Int64N(int64(s.opts.HealthTimeout/3))),
			n:      3 + s.frng.IntN(12),
			code:   []int{500, 502, 503}[s.frng.IntN(3)],
			ns:     s.frng.IntN(s.opts.Namespaces),
		}
		k := s.frng.IntN(len(FaultKinds))
		chance := s.frng.Float64()
		if i == 1 {
			chance *= 4 // a second fault in the same step is rarer
		}
		p.kind = FaultKinds[k]
		switch p.kind {
		case S3Down, Forge5xx, Forge429:
			p.offset /= 8 // reports go out within a second of a push
		}
		if chance < s.opts.FaultRate && s.enabled(p.kind) {
			out = append(out, p)
		}
	}
	return out
}

func (s *soak) enabled(k FaultKind) bool {
	if _, skipped := s.rep.Skipped[k]; skipped {
		return false
	}
	return contains(s.opts.Faults, k)
}

// inject runs one fault to its end: what goes down comes back up.
func (s *soak) inject(ctx context.Context, p faultPlan) {
	sleep(ctx, p.offset)
	if ctx.Err() != nil {
		return
	}
	f := &faultRecord{kind: p.kind, start: time.Now()}
	s.mu.Lock()
	f.step = s.step
	s.faults = append(s.faults, f)
	s.rep.Faults[p.kind]++
	s.mu.Unlock()
	e := s.e
	switch p.kind {
	case KillLeader, KillFollower:
		r := e.leader(ctx)
		if p.kind == KillFollower {
			if r == e.replicas[0] {
				r = e.replicas[1]
			} else {
				r = e.replicas[0]
			}
		}
		if r == nil {
			r = e.replicas[0]
			f.note = "no lease holder seen; "
		}
		f.note += r.name
		e.kill(r)
		sleep(ctx, p.dur/2)
		s.restart(ctx, r)
	case APIRestart:
		_ = e.api.Stop()
		sleep(ctx, p.dur/4)
		if err := e.api.Start(ctx); err != nil {
			s.problem(fmt.Sprintf("step %d: %v", f.step, err))
		}
	case GitDown:
		e.gitDoor.Down()
		sleep(ctx, p.dur)
		if err := e.gitDoor.Up(); err != nil {
			s.problem(err.Error())
		}
	case S3Down:
		e.s3.Stop()
		sleep(ctx, p.dur)
		if err := e.s3.Restart(ctx); err != nil {
			s.problem(fmt.Sprintf("step %d: %v", f.step, err))
		}
	case Forge5xx:
		n := e.ghFront.fail(p.code, 0, p.dur, func(d time.Duration) { sleep(ctx, d) })
		f.note = fmt.Sprintf("%d requests answered %d", n, p.code)
	case Forge429:
		n := e.ghFront.fail(http.StatusTooManyRequests, p.n%3+1, p.dur, func(d time.Duration) { sleep(ctx, d) })
		f.note = fmt.Sprintf("%d requests answered 429, Retry-After %ds", n, p.n%3+1)
	case VersionDelete:
		ns := e.namespaces[p.ns]
		var err error
		for deadline := time.Now().Add(30 * time.Second); ; { // the API server may be restarting
			err = e.dyn.Resource(version.Resource).Namespace(ns).Delete(ctx, version.Name, metav1.DeleteOptions{})
			if err == nil || apierrors.IsNotFound(err) || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			sleep(ctx, 250*time.Millisecond)
		}
		if err != nil && !apierrors.IsNotFound(err) {
			f.note = "not deleted: " + err.Error()
		} else {
			f.note = ns
			s.mu.Lock()
			s.deletes[ns] = time.Now()
			s.mu.Unlock()
		}
	}
	s.mu.Lock()
	f.end = time.Now()
	s.mu.Unlock()
	s.logf("  fault %s %s (%s)", p.kind, f.note, f.end.Sub(f.start).Round(100*time.Millisecond))
}

// restart brings a replica back; one that does not come back is a
// violation of its own (syncgate must start whatever else is down).
func (s *soak) restart(ctx context.Context, r *replica) {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := s.e.start(ctx, r)
		if err == nil {
			return
		}
		if attempt == 0 {
			s.violate(nil, "", "replica-start", fmt.Sprintf("%s did not start: %v", r.name, oneLine(err.Error())))
		}
		sleep(ctx, 2*time.Second)
	}
}

// reviveReplicas restarts replicas that exited on their own, a violation.
func (s *soak) reviveReplicas(ctx context.Context) {
	for _, r := range s.e.replicas {
		a := r.running()
		if a == nil || !a.Exited() {
			continue
		}
		s.violate(nil, "", "replica-exit", fmt.Sprintf("%s exited on its own: %v: %s", r.name, a.Err(), oneLine(a.LogTail(600))))
		r.mu.Lock()
		r.agent = nil
		r.mu.Unlock()
		s.restart(ctx, r)
	}
}

// problem notes trouble of the soak's own making (a restart that failed).
func (s *soak) problem(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rep.Problems = append(s.rep.Problems, msg)
}

// penalty is how much longer a commit may take when the fault overlaps it.
func (s *soak) penalty(f *faultRecord, now time.Time) time.Duration {
	end := f.end
	if end.IsZero() {
		end = now
	}
	return end.Sub(f.start) + s.takeover(f.kind)
}

// bound is how long an incarnation may stay without a final answer, as of
// until: the health timeout, two polls and a margin, plus every fault that
// overlapped it.
func (s *soak) bound(in *inc, until time.Time) time.Duration {
	b := s.opts.HealthTimeout + 2*s.opts.PollInterval + 10*time.Second
	for _, f := range s.faults {
		if f.start.After(until) {
			continue
		}
		if p := s.penalty(f, until); f.start.Add(p).After(in.pushedAt) {
			b += p
		}
	}
	return b
}

// overlapping names the faults that overlapped [from, to].
func (s *soak) overlapping(from, to time.Time) []string {
	var out []string
	for _, f := range s.faults {
		if f.start.After(to) {
			continue
		}
		if f.start.Add(s.penalty(f, to)).After(from) {
			out = append(out, string(f.kind))
		}
	}
	return out
}
