package soak

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/syncgate/syncgate/status"
)

// Report is what a run pushed, injected and found.
type Report struct {
	Seed          int64
	Commits       int
	Namespaces    []string
	HealthTimeout time.Duration
	Duration      time.Duration
	Truncated     bool // stopped by the duration limit
	Interrupted   bool // stopped by a signal
	WorkDir       string

	Pushed     map[Kind]int
	InBursts   int
	Answers    map[Kind]*Outcomes // per commit and namespace
	Faults     map[FaultKind]int
	Skipped    map[FaultKind]string // faults that could not be injected, and why
	Latencies  []time.Duration      // push to first final answer
	NotFound   int                  // /wait 404s for commits on the branch
	Violations []Violation
	Excused    []string // clean commits failed while the control plane was restarting
	Problems   []string // the soak's own trouble (a restart that failed)
}

// Outcomes count the answers of one kind of commit.
type Outcomes struct {
	Deployed, Failed, CarriedDeployed, CarriedFailed, Unanswered int
}

func newReport(opts Options, e *env) *Report {
	return &Report{
		Seed: opts.Seed, Commits: opts.Commits, Namespaces: e.namespaces, HealthTimeout: opts.HealthTimeout,
		WorkDir: opts.WorkDir, Pushed: map[Kind]int{}, Answers: map[Kind]*Outcomes{},
		Faults: map[FaultKind]int{}, Skipped: map[FaultKind]string{},
	}
}

func (r *Report) count(k Kind, burst bool) {
	r.Pushed[k]++
	if burst {
		r.InBursts++
	}
}

func (r *Report) outcomes(k Kind) *Outcomes {
	if r.Answers[k] == nil {
		r.Answers[k] = &Outcomes{}
	}
	return r.Answers[k]
}

func (r *Report) answer(k Kind, own status.State, state string) {
	o := r.outcomes(k)
	carried := own == status.Superseded
	switch {
	case state == string(status.Deployed) && carried:
		o.CarriedDeployed++
	case state == string(status.Deployed):
		o.Deployed++
	case carried:
		o.CarriedFailed++
	default:
		o.Failed++
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// Print writes the tables.
func (r *Report) Print(w io.Writer) {
	total := 0
	for _, n := range r.Pushed {
		total += n
	}
	fmt.Fprintf(w, "\nsyncgate soak, seed %d: %d pushes (%d in bursts) to %d namespaces, 2 replicas, HEALTH_TIMEOUT %s, %s\n",
		r.Seed, total, r.InBursts, len(r.Namespaces), r.HealthTimeout, r.Duration.Round(time.Second))
	if r.Truncated {
		fmt.Fprintf(w, "(stopped early by the duration limit; %d commits asked for)\n", r.Commits)
	}
	if r.Interrupted {
		fmt.Fprintf(w, "(interrupted; %d commits asked for, the last step unchecked)\n", r.Commits)
	}
	fmt.Fprintf(w, "\n%-16s %7s   %-s\n", "commit kind", "pushed", "answers per namespace: deployed / failed / carried deployed / carried failed / none")
	fmt.Fprintln(w, strings.Repeat("-", 100))
	for _, k := range Kinds {
		if r.Pushed[k] == 0 {
			continue
		}
		o := r.outcomes(k)
		fmt.Fprintf(w, "%-16s %7d   %8d %8d %8d %8d %8d\n", k, r.Pushed[k], o.Deployed, o.Failed, o.CarriedDeployed, o.CarriedFailed, o.Unanswered)
	}
	fmt.Fprintln(w, "(a kind is what a commit does to the namespaces it touches; the others keep their content, poison included)")
	fmt.Fprintf(w, "\n%-20s %8s\n", "fault", "injected")
	fmt.Fprintln(w, strings.Repeat("-", 30))
	for _, k := range FaultKinds {
		line := fmt.Sprintf("%-20s %8d", k, r.Faults[k])
		if why, ok := r.Skipped[k]; ok {
			line += "   not injected: " + why
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "\ntime to final answer (push to first final /wait answer, %d answers): p50 %s  p99 %s  max %s\n",
		len(r.Latencies), percentile(r.Latencies, 0.5).Round(10*time.Millisecond),
		percentile(r.Latencies, 0.99).Round(10*time.Millisecond), percentile(r.Latencies, 1).Round(10*time.Millisecond))
	if r.NotFound > 0 {
		fmt.Fprintf(w, "/wait answered 404 (not on the branch) %d times for commits on the branch, then answered\n", r.NotFound)
	}
	if len(r.Excused) > 0 {
		fmt.Fprintf(w, "clean commits that failed during or after an API server restart (excused, not violations): %d\n", len(r.Excused))
		for _, e := range r.Excused {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "soak trouble: %s\n", p)
	}
	fmt.Fprintf(w, "\nviolations: %d\n", len(r.Violations))
	if len(r.Violations) > 0 {
		byCheck := map[string]int{}
		for _, v := range r.Violations {
			byCheck[v.Check]++
		}
		var checks []string
		for c, n := range byCheck {
			checks = append(checks, fmt.Sprintf("%s %d", c, n))
		}
		slices.Sort(checks)
		fmt.Fprintf(w, "  by check: %s\n", strings.Join(checks, ", "))
		for _, v := range r.Violations {
			fmt.Fprintf(w, "  %s\n", v)
		}
	}
	fmt.Fprintf(w, "\nseed %d (reproduce with -seed %d); logs and data in %s\n", r.Seed, r.Seed, r.WorkDir)
}
