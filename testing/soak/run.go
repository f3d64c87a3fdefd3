package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
)

// Run brings up git, S3, the forge fake and two syncgate replicas on
// opts.Cluster, pushes the seeded stream of commits with faults, checks
// the invariants after every step and returns what it saw. An error means
// the soak itself could not run; violations are in the Report. When ctx
// ends during the run, the Report holds what was checked until then.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	began := time.Now()
	if opts.Binary == "" {
		root, err := cluster.RepoRoot()
		if err != nil {
			return nil, err
		}
		bin, err := demo.BuildSyncgate(ctx, root, opts.WorkDir)
		if err != nil {
			return nil, err
		}
		opts.Binary = bin
	}
	e, err := setup(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer e.close()
	s := newSoak(ctx, opts, e)
	if err := s.run(ctx); err != nil {
		return nil, err
	}
	s.rep.Duration = time.Since(began)
	return s.rep, nil
}

// soak is one run's state: the model of what was pushed and what was seen.
type soak struct {
	opts Options
	e    *env
	ctx  context.Context
	rng  *rand.Rand // commits
	frng *rand.Rand // faults
	rep  *Report

	mu       sync.Mutex
	counter  int               // tags and ConfigMap values, unique
	incs     []*inc            // every incarnation, in push order
	latest   map[string]*inc   // sha -> its current incarnation
	parent   map[string]string // sha -> parent sha
	trees    map[string]tree   // sha -> content
	branch   []string          // root ... head
	headGen  int               // bumped by every push
	faults   []*faultRecord
	seen     map[string]bool // violations reported, by key
	deletes  map[string]time.Time
	step     int
	pollers  sync.WaitGroup
	stopPoll context.CancelFunc
}

func newSoak(ctx context.Context, opts Options, e *env) *soak {
	seed := uint64(opts.Seed)
	return &soak{
		opts: opts, e: e, ctx: ctx,
		rng:    rand.New(rand.NewPCG(seed, 0x50a4c0)),
		frng:   rand.New(rand.NewPCG(seed, 0xfa017)),
		rep:    newReport(opts, e),
		latest: map[string]*inc{}, parent: map[string]string{}, trees: map[string]tree{},
		seen: map[string]bool{}, deletes: map[string]time.Time{},
	}
}

func (s *soak) logf(format string, args ...any) {
	fmt.Fprintf(s.opts.Log, "soak: "+format+"\n", args...)
}

func (s *soak) run(ctx context.Context) error {
	pctx, stop := context.WithCancel(ctx)
	s.ctx, s.stopPoll = pctx, stop
	defer func() {
		stop()
		s.pollers.Wait()
	}()
	if s.e.api == nil && contains(s.opts.Faults, APIRestart) {
		s.rep.Skipped[APIRestart] = s.e.apiWhy
	}
	s.logf("seed %d: %d commits, namespaces %v, replicas log to %s", s.opts.Seed, s.opts.Commits, s.e.namespaces, s.e.work)

	// The first commit is on the branch before syncgate starts.
	first := tree{}
	for _, ns := range s.e.namespaces {
		first[ns] = initialContent()
	}
	sha, err := s.commit(first, "soak: initial", true)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.branch, s.trees[sha] = []string{sha}, first
	s.mu.Unlock()
	s.register(sha, first, Initial, false, false, time.Now())
	if err := s.e.startReplicas(ctx); err != nil {
		return err
	}
	s.watchVersions()
	s.settle(ctx, nil)

	began := time.Now()
	for s.pushed() < s.opts.Commits && ctx.Err() == nil {
		if s.opts.MaxDuration > 0 && time.Since(began) > s.opts.MaxDuration {
			s.logf("duration limit %s reached after %d commits", s.opts.MaxDuration, s.pushed())
			s.rep.Truncated = true
			break
		}
		s.mu.Lock()
		s.step++
		s.mu.Unlock()
		a := s.planAction()
		fp := s.planFaults()
		var faults sync.WaitGroup
		for _, f := range fp {
			faults.Add(1)
			go func() {
				defer faults.Done()
				s.inject(ctx, f)
			}()
		}
		if err := s.act(ctx, a); err != nil {
			faults.Wait()
			if ctx.Err() != nil {
				break
			}
			return err
		}
		s.settle(ctx, &faults)
	}
	if ctx.Err() != nil {
		// Interrupted: what was checked so far is the report.
		s.rep.Interrupted = true
	} else {
		s.final(ctx)
	}
	s.countUnanswered()
	return nil
}

func (s *soak) pushed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.incs) - 1 // the initial commit is not counted
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
