package soak

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/s3marker"
	"github.com/syncgate/syncgate/status/version"
)

// maxStatuses bounds the forge statuses one incarnation may get in one
// context: pending applying, a few rollout counts, the final one.
const maxStatuses = 12

// Violation is one broken invariant.
type Violation struct {
	Step      int
	SHA       string
	Kind      Kind
	Namespace string
	Check     string
	Detail    string
}

func (v Violation) String() string {
	who := "-"
	if v.SHA != "" {
		who = short(v.SHA) + " (" + string(v.Kind) + ")"
	}
	ns := v.Namespace
	if ns == "" {
		ns = "-"
	}
	return fmt.Sprintf("step %d  %-28s %-12s %-16s %s", v.Step, who, ns, v.Check, v.Detail)
}

func (s *soak) violate(in *inc, ns, check, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.violateLocked(in, ns, check, detail)
}

// violateLocked records a violation once per incarnation, namespace and check.
func (s *soak) violateLocked(in *inc, ns, check, detail string) {
	v := Violation{Step: s.step, Namespace: ns, Check: check, Detail: detail}
	key := check + "/" + ns + "/" + detail
	if in != nil {
		v.Step, v.SHA, v.Kind = in.step, in.sha, in.kind
		key = fmt.Sprintf("%s/%s/%d", check, ns, in.id)
	}
	if s.seen[key] || s.ctx.Err() != nil { // interrupted: checks fail for that reason
		return
	}
	if at, ok := s.deletes[ns]; ok {
		v.Detail += fmt.Sprintf(" [after the Version of %s was deleted at %s]", ns, at.Format("15:04:05"))
	}
	s.seen[key] = true
	s.rep.Violations = append(s.rep.Violations, v)
	s.logf("  VIOLATION %s", v)
}

func (s *soak) incOf(sha string) *inc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest[sha]
}

// checkAnswer compares one answered commit's channels, once.
func (s *soak) checkAnswer(ctx context.Context, in *inc, ns string, v *version.Version) {
	s.mu.Lock()
	o := in.per[ns]
	o.checked = true
	a, b := o.ans[0], o.ans[1]
	w := o.verdict()
	first := o.first()
	bound := s.bound(in, first)
	faults := s.overlapping(in.pushedAt, first)
	deleted := !s.deletes[ns].IsZero() && s.deletes[ns].After(in.pushedAt.Add(-time.Minute))
	s.rep.Latencies = append(s.rep.Latencies, first.Sub(in.pushedAt))
	s.mu.Unlock()

	if a.state != b.state {
		s.violate(in, ns, "wait-disagree", fmt.Sprintf("/wait: %s answered %s (%s), %s answered %s (%s)",
			s.e.replicas[0].name, a.state, oneLine(a.reason), s.e.replicas[1].name, b.state, oneLine(b.reason)))
	}
	if took := first.Sub(in.pushedAt); took > bound && !o.stuck {
		s.violate(in, ns, "slow-answer", fmt.Sprintf("final after %s (bound %s; faults %v)", took.Round(time.Second), bound.Round(time.Second), faults))
	}

	var entry *version.Commit
	if v != nil {
		entry = v.Status.Find(in.sha)
	}
	own := status.State("")
	switch {
	case entry == nil && deleted:
		// The Version was deleted meanwhile; its history went with it.
	case entry == nil:
		s.violate(in, ns, "version-missing", fmt.Sprintf("/wait answered %s but the Version's history has no entry", w.state))
	default:
		own = entry.State
		eff := effective(*entry)
		switch {
		case eff == "":
			s.violate(in, ns, "version-disagree", fmt.Sprintf("/wait answered %s, the Version still says %s", w.state, entry.State))
		case eff != w.state:
			s.violate(in, ns, "version-disagree", fmt.Sprintf("/wait answered %s, the Version %s (%s %s)", w.state, eff, entry.State, oneLine(entry.Reason)))
		}
		// A rollback to the commit the namespace already runs (a refused
		// head in between) changes nothing there: its verdict stands.
		if in.rollback && !ranIt(v, in) && eff != "" && entry.FinishedAt != nil && entry.FinishedAt.Time.Before(in.pushedAt.Truncate(time.Second).Add(-time.Second)) {
			s.violate(in, ns, "rollback-ignored", fmt.Sprintf("the Version's record of the rolled-back-to commit dates from %s, before the force-push at %s: not judged afresh",
				entry.FinishedAt.Format("15:04:05"), in.pushedAt.Format("15:04:05")))
		}
		s.checkOwn(in, ns, *entry, w, faults)
	}
	s.mu.Lock()
	o.own = own
	s.rep.answer(in.kind, own, w.state)
	s.mu.Unlock()

	s.checkS3(ctx, in, ns, w.state, ranIt(v, in))
	s.checkForge(in, ns, w.state)
}

// checkOwn applies the lifecycle rules to the Version's own record.
func (s *soak) checkOwn(in *inc, ns string, entry version.Commit, w answer, faults []string) {
	c := in.tree[ns]
	switch entry.State {
	case status.Deployed:
		if c.Poison != Clean {
			s.violate(in, ns, "own-verdict", fmt.Sprintf("deployed on its own though its content is %s", c.Poison))
		}
	case status.Failed:
		if c.Poison == Clean && !s.excused(in, ns, w) {
			s.violate(in, ns, "own-verdict", fmt.Sprintf("clean content failed on its own (faults %v): %s", faults, oneLine(entry.Reason)))
		}
	case status.Superseded:
		s.mu.Lock()
		carrier := s.latest[entry.CarriedBy]
		contains := s.isAncestor(in.sha, entry.CarriedBy)
		var cw string
		if carrier != nil {
			cw = carrier.per[ns].verdict().state
		}
		s.mu.Unlock()
		switch {
		case carrier == nil:
			s.violate(in, ns, "carrier", fmt.Sprintf("carried by %s, which was never pushed", short(entry.CarriedBy)))
		case !contains:
			s.violate(in, ns, "carrier", fmt.Sprintf("carried by %s, which does not contain it", short(entry.CarriedBy)))
		case cw != "" && entry.Outcome != "" && string(entry.Outcome) != cw:
			s.violate(in, ns, "carrier", fmt.Sprintf("carried with outcome %s, but its carrier %s was answered %s", entry.Outcome, short(entry.CarriedBy), cw))
		}
	}
}

// excused reports whether a clean commit's failure is the control plane's
// doing: an API server restart stalls the controllers and can let the kwok
// nodes' leases lapse (pods not ready) for longer than the health timeout,
// so a rollout under way then may legitimately time out. Each excused
// failure is counted once in the report.
func (s *soak) excused(in *inc, ns string, w answer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := w.at
	if end.IsZero() {
		end = time.Now()
	}
	for _, f := range s.faults {
		if f.kind != APIRestart || f.start.After(end) {
			continue
		}
		if fe := f.end; fe.IsZero() || fe.Add(2*time.Minute).After(in.pushedAt) {
			key := fmt.Sprintf("excused/%s/%d", ns, in.id)
			if !s.seen[key] {
				s.seen[key] = true
				s.rep.Excused = append(s.rep.Excused, fmt.Sprintf("%s (%s) in %s: %s", short(in.sha), in.kind, ns, oneLine(w.reason)))
			}
			return true
		}
	}
	return false
}

// isAncestor reports whether a is b or one of b's ancestors.
func (s *soak) isAncestor(a, b string) bool {
	for sha := b; sha != ""; sha = s.parent[sha] {
		if sha == a {
			return true
		}
	}
	return false
}

// recheck asks both replicas again about every commit answered so far: a
// final answer never changes (until a force-push takes the commit away
// or brings it back). Many changes at once (a lost history) are reported
// as one violation.
func (s *soak) recheck(ctx context.Context) {
	todo := s.liveIncs()
	type change struct {
		in     *inc
		ns, at string
	}
	var changed []change
	for _, in := range todo {
		for _, ns := range s.e.namespaces {
			s.mu.Lock()
			o := in.per[ns]
			ok := o.checked && !s.seen[fmt.Sprintf("answer-changed/%s/%d", ns, in.id)]
			w := o.verdict().state
			stale := in.gone()
			s.mu.Unlock()
			if !ok || stale {
				continue
			}
			for _, r := range s.e.replicas {
				if r.running() == nil {
					continue
				}
				code, body, err := get(ctx, r.url+"/status/"+in.sha+"?namespace="+ns)
				if err != nil || code == http.StatusServiceUnavailable {
					continue
				}
				now := map[int]string{http.StatusOK: "deployed", http.StatusConflict: "failed", http.StatusAccepted: "in progress", http.StatusNotFound: "unknown"}[code]
				if now == "" {
					now = fmt.Sprintf("HTTP %d", code)
				}
				if now != w {
					changed = append(changed, change{in, ns, fmt.Sprintf("%s now answers %s (%s %s), earlier %s", r.name, now, body.State, oneLine(body.Reason), w)})
					break
				}
			}
		}
	}
	if len(changed) <= 3 {
		for _, c := range changed {
			s.violate(c.in, c.ns, "answer-changed", c.at)
		}
		return
	}
	var some []string
	for _, c := range changed[:3] {
		some = append(some, fmt.Sprintf("%s in %s: %s", short(c.in.sha), c.ns, c.at))
	}
	s.mu.Lock()
	for _, c := range changed {
		s.seen[fmt.Sprintf("answer-changed/%s/%d", c.ns, c.in.id)] = true
	}
	s.mu.Unlock()
	s.violate(nil, "", "answer-changed", fmt.Sprintf("%d commit answers changed since they were final, e.g. %s", len(changed), strings.Join(some, "; ")))
}

// final checks once more, at the end, that S3 and the forge still agree
// with every answer given.
func (s *soak) final(ctx context.Context) {
	todo := s.liveIncs()
	for _, in := range todo {
		for _, ns := range s.e.namespaces {
			s.mu.Lock()
			o := in.per[ns]
			ok, w := o.checked, o.verdict().state
			flagged := s.seen[fmt.Sprintf("s3/%s/%d", ns, in.id)] || s.seen[fmt.Sprintf("forge/%s/%d", ns, in.id)]
			s.mu.Unlock()
			if !ok || flagged {
				continue
			}
			res, err := s3marker.ReadResult(ctx, s.e.s3.Client(), bucket, s3marker.ResultKey("", clusterName, ns, in.sha))
			if err == nil && string(res.Effective()) != w {
				s.violate(in, ns, "s3-changed", fmt.Sprintf("_result now says %s (outcome %q), /wait answered %s", res.State, res.Outcome, w))
			}
			if last, ok := s.e.gh.Latest(repoName, in.sha, statusContext(ns)); ok && last.State != forgeState(w) {
				s.violate(in, ns, "forge-changed", fmt.Sprintf("final status now %s %q, /wait answered %s", last.State, last.Description, w))
			}
		}
	}
}

// countUnanswered adds the commits still without a final answer to the report.
func (s *soak) countUnanswered() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.liveLocked() {
		for _, o := range in.per {
			if !o.final() {
				s.rep.outcomes(in.kind).Unanswered++
			}
		}
	}
}
