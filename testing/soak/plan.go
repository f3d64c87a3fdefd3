package soak

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Plan lists what a run with opts would push and inject, step by step,
// without running anything: the commits are the same whatever happens,
// the faults too (but for apiserver-restart where the API server cannot be
// restarted). Namespaces are called ns-a and ns-b.
func Plan(opts Options) string {
	if opts.Commits <= 0 {
		opts.Commits = 200
	}
	if opts.Namespaces <= 0 {
		opts.Namespaces = 2
	}
	if opts.HealthTimeout <= 0 {
		opts.HealthTimeout = 30 * time.Second
	}
	if opts.Faults == nil {
		opts.Faults = FaultKinds
	}
	e := &env{}
	for i := range min(opts.Namespaces, 2) {
		e.namespaces = append(e.namespaces, fmt.Sprintf("ns-%c", 'a'+i))
	}
	s := newSoak(context.Background(), opts, e)
	first := tree{}
	for _, ns := range e.namespaces {
		first[ns] = initialContent()
	}
	s.branch, s.trees["c0"] = []string{"c0"}, first
	s.incs = make([]*inc, 1) // the initial commit
	var b strings.Builder
	for step := 1; len(s.incs)-1 < opts.Commits; step++ {
		a := s.planAction()
		fmt.Fprintf(&b, "step %d:", step)
		if a.rollback > 0 {
			s.branch = s.branch[:len(s.branch)-a.rollback]
			s.incs = append(s.incs, nil)
			fmt.Fprintf(&b, " rollback %d back to %s\n", a.rollback, s.branch[len(s.branch)-1])
		} else if a.burst {
			fmt.Fprintf(&b, " burst (one push: %v)\n", a.onePush)
		} else {
			fmt.Fprintln(&b)
		}
		for _, p := range a.commits {
			head := s.trees[s.branch[len(s.branch)-1]]
			t, k := s.mutate(p, head)
			sha := fmt.Sprintf("c%d", len(s.trees))
			s.trees[sha] = t
			s.branch = append(s.branch, sha)
			s.incs = append(s.incs, nil)
			var nss []string
			for _, ns := range e.namespaces {
				nss = append(nss, ns+" "+t[ns].String())
			}
			fmt.Fprintf(&b, "  %s %-15s %s\n", sha, k, strings.Join(nss, " | "))
		}
		for _, f := range s.planFaults() {
			fmt.Fprintf(&b, "  fault %s at +%s (%s)\n", f.kind, f.offset, f.dur.Round(100*time.Millisecond))
		}
	}
	return b.String()
}
