package server

import (
	"fmt"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// Verdict is what is known about one commit in one namespace.
type Verdict struct {
	State     string `json:"state"`
	Reason    string `json:"reason,omitempty"`
	CarriedBy string `json:"carried_by,omitempty"`
	Applied   string `json:"applied,omitempty"`
	Deployed  string `json:"deployed,omitempty"`
	Ready     int    `json:"ready,omitempty"`
	Total     int    `json:"total,omitempty"`
}

// States a verdict can have beyond the commit lifecycle.
const (
	statePending = "pending" // on the branch, not picked up yet
	stateUnknown = "unknown" // not on the followed branch
)

// Ancestry answers whether a commit is contained in another.
type Ancestry interface {
	IsAncestor(a, b string) (bool, error)
	OnBranch(sha string) (bool, error)
}

// judge decides sha's state in one namespace from its Version.
func judge(sha string, v *version.Version, repo Ancestry) Verdict {
	var st version.VersionStatus
	if v != nil {
		st = v.Status
	}
	out := Verdict{Applied: st.Applied, Deployed: st.Deployed}
	for _, c := range st.History {
		if c.SHA != sha {
			continue
		}
		out.Ready, out.Total = int(c.Ready), int(c.Total)
		switch {
		case c.State == status.Deployed || c.State == status.Failed:
			out.State, out.Reason = string(c.State), c.Reason
			return out
		case c.State == status.Superseded && c.Outcome != "":
			out.State, out.Reason, out.CarriedBy = string(c.Outcome), c.Reason, c.CarriedBy
			return out
		case c.State == status.Superseded:
			out.State, out.CarriedBy = string(status.Applying), c.CarriedBy
			out.Reason = "superseded by " + status.ShortSHA(c.CarriedBy) + ", which is in progress"
		default:
			out.State = string(c.State)
		}
	}
	if st.Deployed != "" {
		if ok, _ := repo.IsAncestor(sha, st.Deployed); ok {
			out.State, out.CarriedBy = string(status.Deployed), st.Deployed
			out.Reason = "carried by deployed " + status.ShortSHA(st.Deployed)
			return out
		}
	}
	for _, c := range st.History {
		if c.State != status.Failed || c.SHA == sha {
			continue
		}
		if ok, _ := repo.IsAncestor(sha, c.SHA); ok {
			out.State, out.CarriedBy = string(status.Failed), c.SHA
			out.Reason = fmt.Sprintf("carried by %s: %s", status.ShortSHA(c.SHA), c.Reason)
			return out
		}
	}
	if out.State != "" {
		return out
	}
	if ok, _ := repo.OnBranch(sha); ok {
		out.State = statePending
		return out
	}
	out.State = stateUnknown
	return out
}

// combine merges per-namespace verdicts: deployed when all are, failed when
// any is, unknown when any is, otherwise in progress.
func combine(vs map[string]Verdict) Verdict {
	all := true
	var progress Verdict
	for ns, v := range vs {
		switch v.State {
		case string(status.Failed):
			r := v
			r.Reason = ns + ": " + v.Reason
			return r
		case stateUnknown:
			return Verdict{State: stateUnknown}
		case string(status.Deployed):
		default:
			all = false
			if progress.State == "" || v.State == statePending {
				progress = Verdict{State: v.State, Ready: progress.Ready + v.Ready, Total: progress.Total + v.Total}
			}
		}
	}
	if all {
		return Verdict{State: string(status.Deployed)}
	}
	return progress
}
