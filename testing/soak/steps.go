package soak

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// action is one step's pushes, drawn from the commit RNG before anything
// runs, so that timing never changes what a seed pushes.
type action struct {
	commits  []plannedCommit // single or burst
	burst    bool
	onePush  bool // a burst committed locally and pushed once
	rollback int  // commits back from the head; 0 when not a rollback
	webhook  bool // tell the replicas by webhook, as GitHub would
}

type plannedCommit struct {
	kind    Kind
	targets []int // indexes of the namespaces it changes
	draws   []int // the RNG draws its mutation uses
}

var singleWeights = []struct {
	kind Kind
	w    int
}{{Good, 34}, {Render, 9}, {API, 9}, {Crash, 12}, {Prune, 10}, {Comment, 10}}

// pushes reports whether the run pushes commits (or actions) of kind k.
func (s *soak) pushes(k Kind) bool { return s.opts.Kinds == nil || contains(s.opts.Kinds, k) }

func (s *soak) planCommit() plannedCommit {
	total := 0
	for _, k := range singleWeights {
		if s.pushes(k.kind) {
			total += k.w
		}
	}
	p := plannedCommit{kind: Good}
	n := s.rng.IntN(max(total, 1))
	for _, k := range singleWeights {
		if !s.pushes(k.kind) {
			continue
		}
		if n < k.w {
			p.kind = k.kind
			break
		}
		n -= k.w
	}
	switch nss := s.opts.Namespaces; {
	case nss == 1:
		p.targets = []int{0}
	default:
		switch s.rng.IntN(4) {
		case 0:
			p.targets = []int{0}
		case 1:
			p.targets = []int{1}
		default:
			p.targets = []int{0, 1}
		}
	}
	p.draws = []int{s.rng.IntN(1 << 20), s.rng.IntN(1 << 20)}
	return p
}

func (s *soak) planAction() action {
	var a action
	a.webhook = s.rng.IntN(10) < 8
	s.mu.Lock()
	depth := len(s.branch)
	left := s.opts.Commits - (len(s.incs) - 1)
	s.mu.Unlock()
	switch r := s.rng.IntN(100); {
	case r < 12 && depth >= 2 && s.pushes(Rollback):
		a.rollback = 1 + s.rng.IntN(min(depth-1, 8))
	case r < 32 && left >= 2 && s.pushes(Burst):
		a.burst = true
		a.onePush = s.rng.IntN(2) == 0
		for range min(2+s.rng.IntN(4), left) {
			a.commits = append(a.commits, s.planCommit())
		}
	default:
		a.commits = []plannedCommit{s.planCommit()}
	}
	return a
}

// mutate is the content a planned commit makes of the head's.
func (s *soak) mutate(p plannedCommit, head tree) (tree, Kind) {
	t := head.clone()
	kind := p.kind
	for _, i := range p.targets {
		ns := s.e.namespaces[i]
		c := t[ns]
		next := func() int { s.counter++; return s.counter + 1 }
		switch kind {
		case Good:
			c.Tag, c.Poison = next(), Clean
			if p.draws[0]%2 == 0 {
				c.CMs[fmt.Sprintf("cm-%d", 1+p.draws[1]%3)] = next()
			}
		case Render:
			c.Tag, c.Poison = next(), BadYAML
		case API:
			c.Tag, c.Poison = next(), BadField
		case Crash:
			c.Tag, c.Poison = next(), CrashLoop
		case Prune:
			names := slices.Sorted(maps.Keys(c.CMs))
			if len(names) == 0 { // nothing to prune: add one back instead
				c.CMs[fmt.Sprintf("cm-%d", 1+p.draws[1]%3)] = next()
			} else {
				delete(c.CMs, names[p.draws[1]%len(names)])
			}
		case Comment:
			c.Rev++
		}
		t[ns] = c
	}
	return t, kind
}

// act performs a step's pushes and registers what was pushed.
func (s *soak) act(ctx context.Context, a action) error {
	if a.rollback > 0 {
		return s.rollBack(ctx, a)
	}
	type made struct {
		sha  string
		t    tree
		kind Kind
	}
	var done []made
	for i, p := range a.commits {
		s.mu.Lock()
		head := s.trees[s.branch[len(s.branch)-1]]
		t, kind := s.mutate(p, head)
		s.mu.Unlock()
		push := !a.onePush || i == len(a.commits)-1
		sha, err := s.commit(t, fmt.Sprintf("soak: step %d %s", s.step, kind), push && !a.onePush)
		if err != nil {
			return err
		}
		if a.onePush && push {
			if err := s.e.repo.Push(); err != nil {
				return err
			}
		}
		s.mu.Lock()
		s.parent[sha] = s.branch[len(s.branch)-1]
		s.branch = append(s.branch, sha)
		s.trees[sha] = t
		s.mu.Unlock()
		done = append(done, made{sha, t, kind})
		if push {
			at := time.Now()
			for _, m := range done {
				s.register(m.sha, m.t, m.kind, a.burst, false, at)
			}
			done = done[:0]
		}
	}
	last := s.head()
	s.logf("step %d: %s", s.step, s.describe(a, last))
	if a.webhook {
		s.e.notify(ctx, last)
	}
	return nil
}

func (s *soak) describe(a action, last string) string {
	if a.rollback > 0 {
		return fmt.Sprintf("rollback %d back to %s", a.rollback, short(last))
	}
	var kinds []string
	for _, p := range a.commits {
		kinds = append(kinds, string(p.kind))
	}
	what := fmt.Sprint(kinds)
	if a.burst {
		how := "pushed one by one"
		if a.onePush {
			how = "pushed at once"
		}
		what = fmt.Sprintf("burst %v %s", kinds, how)
	}
	return fmt.Sprintf("%s, head %s", what, short(last))
}

// commit writes t into the working clone and commits it, pushing when asked.
func (s *soak) commit(t tree, msg string, push bool) (string, error) {
	r := s.e.repo
	for ns, c := range t {
		if err := r.Remove(ns); err != nil {
			return "", err
		}
		if err := r.Write(c.files(ns)); err != nil {
			return "", err
		}
	}
	if push {
		return r.Commit(msg)
	}
	return r.CommitLocal(msg)
}

// rollBack force-pushes the branch back a.rollback commits.
func (s *soak) rollBack(ctx context.Context, a action) error {
	s.mu.Lock()
	target := s.branch[len(s.branch)-1-a.rollback]
	s.mu.Unlock()
	if err := s.e.repo.ResetHard(target); err != nil {
		return fmt.Errorf("rollback to %s: %w", short(target), err)
	}
	at := time.Now()
	s.mu.Lock()
	dropped := s.branch[len(s.branch)-a.rollback:]
	s.branch = s.branch[:len(s.branch)-a.rollback]
	for _, sha := range dropped {
		if in := s.latest[sha]; in != nil {
			in.orphaned = true
			in.cancel() // off the branch: /wait answers 404 from now on
		}
	}
	t := s.trees[target]
	s.mu.Unlock()
	s.register(target, t, Rollback, false, true, at)
	s.logf("step %d: %s", s.step, s.describe(a, target))
	if a.webhook {
		s.e.notify(ctx, target)
	}
	return nil
}

func (s *soak) head() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.branch[len(s.branch)-1]
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
