package lifecycle

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// Verdict is what is known about one commit in one namespace, as the
// gateway serves it and the CLI reads it.
type Verdict struct {
	State     string `json:"state"`
	Reason    string `json:"reason,omitempty"`
	CarriedBy string `json:"carried_by,omitempty"`
	Applied   string `json:"applied,omitempty"`
	Deployed  string `json:"deployed,omitempty"`
	Ready     int    `json:"ready,omitempty"`
	Total     int    `json:"total,omitempty"`
}

// Verdict states beyond the commit lifecycle.
const (
	// Pending: on the followed branch, not picked up yet.
	Pending = "pending"
	// Unknown: not on the followed branch.
	Unknown = "unknown"
)

// Final reports whether the verdict will not change: deployed or failed.
func (v Verdict) Final() bool {
	return v.State == string(status.Deployed) || v.State == string(status.Failed)
}

// Ancestry answers questions about the followed branch.
type Ancestry interface {
	IsAncestor(a, b string) (bool, error)
	OnBranch(sha string) (bool, error)
}

// Judge decides sha's state in one namespace from its Version status (nil
// when the namespace has none yet).
//
// A commit with an entry of its own is judged by it alone: a commit that
// reached its own final state keeps it, and one re-applied by a rollback is
// in progress again. A failed commit whose entry left the bounded history
// stays failed (FailedBefore). A commit without an entry takes the final
// state of the first commit it is an ancestor of to reach its own deployed
// or failed state (see carrier), naming that commit, so a later deploy of a
// fix never turns its failed answer into deployed. Only when no entry in
// the bounded history carries it is it judged against the deployed commit:
// once the carrying entry has left the history (MaxHistory newer entries),
// that fallback may differ from the answer given before.
func Judge(sha string, st *version.VersionStatus, repo Ancestry) Verdict {
	if st == nil {
		st = &version.VersionStatus{}
	}
	out := Verdict{Applied: st.Applied, Deployed: st.Deployed}
	if c := st.Find(sha); c != nil {
		out.Ready, out.Total = int(c.Ready), int(c.Total)
		switch {
		case c.State == status.Deployed || c.State == status.Failed:
			out.State, out.Reason = string(c.State), c.Reason
		case c.State == status.Superseded && c.Outcome != "":
			out.State, out.Reason, out.CarriedBy = string(c.Outcome), c.Reason, c.CarriedBy
		case c.State == status.Superseded:
			out.State, out.CarriedBy = string(status.Applying), c.CarriedBy
			out.Reason = "superseded by " + status.ShortSHA(c.CarriedBy) + ", which is in progress"
		default:
			out.State = string(c.State)
		}
		return out
	}
	if slices.Contains(st.FailedBefore, sha) {
		out.State = string(status.Failed)
		out.Reason = "failed; its entry has left the history (the reason is in its S3 result and Events)"
		return out
	}
	if c := carrier(sha, st.History, repo); c != nil {
		out.State, out.CarriedBy = string(c.State), c.SHA
		if c.State == status.Deployed {
			out.Reason = "carried by deployed " + status.ShortSHA(c.SHA)
		} else {
			out.Reason = fmt.Sprintf("carried by %s: %s", status.ShortSHA(c.SHA), c.Reason)
		}
		return out
	}
	if st.Deployed != "" {
		if ok, _ := repo.IsAncestor(sha, st.Deployed); ok {
			out.State, out.CarriedBy = string(status.Deployed), st.Deployed
			out.Reason = "carried by deployed " + status.ShortSHA(st.Deployed)
			return out
		}
	}
	if ok, _ := repo.OnBranch(sha); ok {
		out.State = Pending
		return out
	}
	out.State = Unknown
	return out
}

// Combine merges per-namespace verdicts, visiting namespaces in name order:
// failed when any failed (the first by name, its reason prefixed with the
// namespace), unknown when any is unknown, deployed when all are, otherwise
// in progress with the ready counts summed.
func Combine(per map[string]Verdict) Verdict {
	nss := sortedKeys(per)
	for _, ns := range nss {
		if v := per[ns]; v.State == string(status.Failed) {
			v.Reason = ns + ": " + v.Reason
			return v
		}
	}
	for _, ns := range nss {
		if per[ns].State == Unknown {
			return Verdict{State: Unknown}
		}
	}
	var progress Verdict
	all := true
	for _, ns := range nss {
		v := per[ns]
		if v.State == string(status.Deployed) {
			continue
		}
		all = false
		// The least advanced state speaks for all: pending before the rest.
		if progress.State == "" || v.State == Pending {
			progress.State = v.State
		}
		progress.Ready += v.Ready
		progress.Total += v.Total
	}
	if all {
		return Verdict{State: string(status.Deployed)}
	}
	return progress
}

// Summary is a stable one-line form of per-namespace verdicts: what a
// progress-reporting client sees change.
func Summary(per map[string]Verdict) string {
	var b strings.Builder
	for _, ns := range sortedKeys(per) {
		v := per[ns]
		fmt.Fprintf(&b, "%s=%s:%d/%d;", ns, v.State, v.Ready, v.Total)
	}
	return b.String()
}

func sortedKeys(per map[string]Verdict) []string {
	nss := make([]string, 0, len(per))
	for ns := range per {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	return nss
}

// carrier returns the history entry that decides a commit without an entry
// of its own: of the entries that reached their own deployed or failed state
// and that sha is an ancestor of, the one that reached it first (by
// FinishedAt; an entry without one, or a tie, goes by history position,
// older entries last). nil when none.
func carrier(sha string, history []version.Commit, repo Ancestry) *version.Commit {
	var best *version.Commit
	for i := range history {
		c := &history[i]
		if c.State != status.Deployed && c.State != status.Failed {
			continue
		}
		if best != nil && finishedAfter(c, best) {
			continue
		}
		if ok, _ := repo.IsAncestor(sha, c.SHA); ok {
			best = c
		}
	}
	return best
}

// finishedAfter reports whether a reached its final state after b, where a
// comes later in the newest-first history than b: a tie, or a missing time,
// leaves the later (older) entry first.
func finishedAfter(a, b *version.Commit) bool {
	if a.FinishedAt == nil || b.FinishedAt == nil {
		return false
	}
	return a.FinishedAt.After(b.FinishedAt.Time)
}
