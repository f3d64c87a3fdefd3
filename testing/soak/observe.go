package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// inc is one incarnation of a commit: its push, or a later force-push of
// the branch back to it, which is judged afresh.
type inc struct {
	id       int
	sha      string
	kind     Kind
	step     int
	burst    bool
	rollback bool
	pushedAt time.Time
	gen      int            // the push generation; the head has the newest
	tree     tree           // what it says each namespace runs
	base     map[string]int // forge statuses of each context before it
	per      map[string]*nsObs

	fenced   bool // answers count from now on (at once, but for rollbacks)
	orphaned bool // dropped from the branch by a force-push
	retired  bool // a later incarnation of the same sha took over
	cancel   context.CancelFunc
}

// gone reports whether in is no longer checked: a force-push dropped it
// from the branch, or a later incarnation of its sha took over.
func (in *inc) gone() bool { return in.orphaned || in.retired }

// liveIncs are the incarnations still checked.
func (s *soak) liveIncs() []*inc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.liveLocked()
}

// liveLocked is liveIncs with s.mu held.
func (s *soak) liveLocked() []*inc {
	var out []*inc
	for _, in := range s.incs {
		if !in.gone() {
			out = append(out, in)
		}
	}
	return out
}

// nsObs is what was seen of one incarnation in one namespace.
type nsObs struct {
	ans     [2]answer // the final /wait answer of each replica
	hist    string    // the first final state the Version showed
	carried bool      // the Version showed it superseded
	own     status.State
	checked bool
	stuck   bool
}

type answer struct {
	state  string // deployed or failed; empty until final
	reason string
	at     time.Time
}

// final reports whether both replicas answered.
func (o *nsObs) final() bool { return o.ans[0].state != "" && o.ans[1].state != "" }

// verdict is the answer, the first replica's when both answered.
func (o *nsObs) verdict() answer {
	if o.ans[0].state != "" {
		return o.ans[0]
	}
	return o.ans[1]
}

func (o *nsObs) first() time.Time {
	switch {
	case o.ans[0].state == "":
		return o.ans[1].at
	case o.ans[1].state == "" || o.ans[0].at.Before(o.ans[1].at):
		return o.ans[0].at
	}
	return o.ans[1].at
}

func statusContext(ns string) string { return status.Context(clusterName, ns) }

// register records a push of sha and starts asking both replicas about it.
func (s *soak) register(sha string, t tree, kind Kind, burst, rollback bool, at time.Time) *inc {
	base := map[string]int{}
	for _, st := range s.e.gh.Statuses(repoName, sha) {
		base[st.Context]++
	}
	s.mu.Lock()
	s.headGen++
	ctx, cancel := context.WithCancel(s.ctx)
	in := &inc{id: len(s.incs), sha: sha, kind: kind, step: s.step, burst: burst, rollback: rollback,
		pushedAt: at, gen: s.headGen, tree: t, base: map[string]int{}, per: map[string]*nsObs{},
		fenced: !rollback, cancel: cancel}
	for _, ns := range s.e.namespaces {
		in.base[ns] = base[statusContext(ns)]
		in.per[ns] = &nsObs{}
	}
	if old := s.latest[sha]; old != nil {
		old.retired = true
		old.cancel()
	}
	s.latest[sha] = in
	s.incs = append(s.incs, in)
	s.rep.count(kind, burst)
	s.mu.Unlock()
	for _, ns := range s.e.namespaces {
		for i := range s.e.replicas {
			s.pollers.Add(1)
			go func() {
				defer s.pollers.Done()
				s.poll(ctx, in, ns, i)
			}()
		}
	}
	return in
}

// fence waits until syncgate can have seen a force-push: a poll interval
// (and a margin) after it, with git up and a leader in office. Until then
// /wait still answers from the commit's earlier incarnation, which is not
// what the rollback is judged by.
func (s *soak) fence(ctx context.Context, in *inc) bool {
	for ctx.Err() == nil {
		s.mu.Lock()
		from := in.pushedAt
		active := false
		for _, f := range s.faults {
			if f.end.IsZero() {
				active = true
				continue
			}
			if end := f.end.Add(s.takeover(f.kind)); f.disrupts() && end.After(from) {
				from = end
			}
		}
		ready := !active && time.Now().After(from.Add(s.opts.PollInterval+2*time.Second))
		if ready {
			in.fenced = true
		}
		s.mu.Unlock()
		if ready {
			return true
		}
		sleep(ctx, 200*time.Millisecond)
	}
	return false
}

var waitClient = &http.Client{Timeout: 40 * time.Second}

// poll long-polls one replica's /wait until it gives a final answer,
// through dropped connections, restarts and not-yet-synced answers.
func (s *soak) poll(ctx context.Context, in *inc, ns string, i int) {
	if in.rollback && !s.fence(ctx, in) {
		return
	}
	for ctx.Err() == nil {
		r := s.e.replicas[i]
		code, body, err := get(ctx, r.url+"/wait/"+in.sha+"?namespace="+ns+"&timeout=20s")
		if err != nil {
			sleep(ctx, 250*time.Millisecond)
			continue
		}
		switch code {
		case http.StatusOK, http.StatusConflict:
			a := answer{state: string(status.Deployed), reason: body.Reason, at: time.Now()}
			if code == http.StatusConflict {
				a.state = string(status.Failed)
			}
			s.answered(in, ns, i, a)
			return
		case http.StatusNotFound:
			s.mu.Lock()
			if !in.orphaned {
				s.rep.NotFound++
			}
			s.mu.Unlock()
			sleep(ctx, 500*time.Millisecond)
		case http.StatusRequestTimeout:
		default:
			sleep(ctx, 250*time.Millisecond)
		}
	}
}

type waitBody struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
}

func get(ctx context.Context, url string) (int, waitBody, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, waitBody{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := waitClient.Do(req)
	if err != nil {
		return 0, waitBody{}, err
	}
	defer resp.Body.Close()
	var b waitBody
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, waitBody{}, err
	}
	_ = json.Unmarshal(raw, &b)
	return resp.StatusCode, b, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// answered records a final /wait answer; a deployed head is compared with
// the cluster at once: nothing may be answered deployed that is not live.
func (s *soak) answered(in *inc, ns string, i int, a answer) {
	s.mu.Lock()
	o := in.per[ns]
	o.ans[i] = a
	head := in.gen == s.headGen && !in.gone()
	s.mu.Unlock()
	if head && a.state == string(status.Deployed) {
		s.pollers.Add(1)
		go func() {
			defer s.pollers.Done()
			s.liveCheck(in, ns, i)
		}()
	}
}

func (s *soak) liveCheck(in *inc, ns string, replica int) {
	want := in.tree[ns]
	deadline := time.Now().Add(20 * time.Second)
	ready := time.Now().Add(5 * time.Second) // kstatus and this check read at different instants
	for s.ctx.Err() == nil {
		l, err := s.live(s.ctx, ns)
		s.mu.Lock()
		head := in.gen == s.headGen
		s.mu.Unlock()
		if !head {
			return
		}
		if err == nil {
			spec := l.diff(want, false)
			full := l.diff(want, true)
			if full == "" {
				return
			}
			if spec == "" && s.nodesMayFlap() {
				return // not ready for the cluster's own reasons
			}
			if spec != "" || time.Now().After(ready) {
				s.violate(in, ns, "live", fmt.Sprintf("%s answered deployed while the cluster runs %s", s.e.replicas[replica].name, full))
				return
			}
		} else if time.Now().After(deadline) {
			return
		}
		sleep(s.ctx, 250*time.Millisecond)
	}
}

// nodesMayFlap reports whether the API server was restarted in the last
// two minutes: kwok's node leases may have lapsed meanwhile, and the node
// controller then marks pods not ready for a while, whatever syncgate did.
func (s *soak) nodesMayFlap() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.kind == APIRestart && (f.end.IsZero() || time.Since(f.end) < 2*time.Minute) {
			return true
		}
	}
	return false
}

// watchVersions reads every namespace's Version four times a second for
// the life of the run and notes each commit's first final state, so that a
// later change of it is seen even once the history has moved on.
func (s *soak) watchVersions() {
	store := version.NewStore(s.e.dyn)
	for _, ns := range s.e.namespaces {
		s.pollers.Add(1)
		go func() {
			defer s.pollers.Done()
			for s.ctx.Err() == nil {
				if v, err := store.Get(s.ctx, ns); err == nil && v != nil {
					s.noteVersion(ns, v)
				}
				sleep(s.ctx, 250*time.Millisecond)
			}
		}()
	}
}

// effective is the final answer a history entry gives: its own state, or
// its carrier's outcome; empty while not final.
func effective(c version.Commit) string {
	switch {
	case c.State == status.Deployed || c.State == status.Failed:
		return string(c.State)
	case c.State == status.Superseded && c.Outcome != "":
		return string(c.Outcome)
	}
	return ""
}

func (s *soak) noteVersion(ns string, v *version.Version) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range v.Status.History {
		in := s.latest[c.SHA]
		if in == nil || in.gone() || !in.fenced {
			continue
		}
		o := in.per[ns]
		if c.State == status.Superseded {
			o.carried = true
		}
		eff := effective(c)
		switch {
		case eff == "":
		case o.hist == "":
			o.hist = eff
		case o.hist != eff:
			s.violateLocked(in, ns, "version-changed", fmt.Sprintf("the Version's history answered %s, later %s (%s %s)", o.hist, eff, c.State, oneLine(c.Reason)))
			o.hist = eff
		}
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
