package soak

// The branch head against its content, and the cluster against the head.

import (
	"context"
	"fmt"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// checkHead checks the branch head's answer against its content, and the
// cluster against what the Version says it runs.
func (s *soak) checkHead(ctx context.Context, vs map[string]*version.Version) {
	s.mu.Lock()
	head := s.latest[s.branch[len(s.branch)-1]]
	s.mu.Unlock()
	for _, ns := range s.e.namespaces {
		s.mu.Lock()
		o := head.per[ns]
		final := o.final()
		w := o.verdict()
		s.mu.Unlock()
		if !final {
			continue // reported as non-final
		}
		c := head.tree[ns]
		if c.Poison == Clean && w.state != string(status.Deployed) && !s.excused(head, ns, w) {
			s.violate(head, ns, "head-outcome", "the head's content is clean but it was answered failed: "+oneLine(w.reason))
		}
		if c.Poison != Clean && w.state == string(status.Deployed) {
			s.violate(head, ns, "head-outcome", fmt.Sprintf("the head's content is %s but it was answered deployed", c.Poison))
		}
		v := vs[ns]
		var applied, deployed string
		if v != nil {
			applied, deployed = v.Status.Applied, v.Status.Deployed
		}
		if c.Poison.Valid() && applied != head.sha {
			s.violate(head, ns, "version-applied", fmt.Sprintf("the head can be applied but the Version's applied is %q", short(applied)))
		}
		if w.state == string(status.Deployed) && deployed != head.sha {
			s.violate(head, ns, "version-deployed", fmt.Sprintf("the head was answered deployed but the Version's deployed is %q", short(deployed)))
		}
		s.mu.Lock()
		depTree, depKnown := s.trees[deployed]
		s.mu.Unlock()
		if deployed != "" && (!depKnown || depTree[ns].Poison != Clean) {
			s.violate(head, ns, "version-deployed", fmt.Sprintf("the Version's deployed %s is not a clean commit", short(deployed)))
		}
		s.checkCluster(ctx, head, ns, w, applied)
	}
}

// checkCluster compares the cluster with the head (answered deployed, or
// a crashloop that was applied) or with the applied commit (the head was
// refused and changed nothing).
func (s *soak) checkCluster(ctx context.Context, head *inc, ns string, w answer, applied string) {
	c := head.tree[ns]
	var what string
	msg := retry(ctx, func() string {
		l, err := s.live(ctx, ns)
		if err != nil {
			return "cannot read the cluster: " + err.Error()
		}
		switch {
		case w.state == string(status.Deployed):
			// Readiness was checked when the answer came (liveCheck); by
			// now a restarted API server may have let the nodes' leases
			// lapse and the node controller mark pods not ready.
			what = "the head was answered deployed, but the cluster runs "
			return l.diff(c, false)
		case c.Poison.Valid():
			what = "the head was applied (and failed), but the cluster runs "
			return l.diff(c, false)
		case applied == "":
			what = "the head was refused and the Version records nothing applied (no inventory to prune from), but the cluster has "
			return l.empty()
		}
		s.mu.Lock()
		t, ok := s.trees[applied]
		s.mu.Unlock()
		if !ok {
			what = ""
			return fmt.Sprintf("the Version's applied %s was never pushed", short(applied))
		}
		if !t[ns].Poison.Valid() {
			what = ""
			return fmt.Sprintf("the Version's applied %s holds %s content, which cannot be applied", short(applied), t[ns].Poison)
		}
		what = fmt.Sprintf("the head was refused, so the cluster should run the applied %s, but runs ", short(applied))
		return l.diff(t[ns], false)
	})
	if msg != "" {
		s.violate(head, ns, "cluster", what+msg)
	}
}
