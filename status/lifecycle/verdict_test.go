package lifecycle

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// dag answers ancestry from a child -> parents map.
type dag map[string][]string

func (g dag) IsAncestor(a, b string) (bool, error) {
	if a == b {
		return true, nil
	}
	for _, p := range g[b] {
		if ok, _ := g.IsAncestor(a, p); ok {
			return true, nil
		}
	}
	return false, nil
}

func (g dag) OnBranch(sha string) (bool, error) { return sha == "j" || sha == "m" || sha == "x", nil }

func finished(st *version.VersionStatus, sha string, s status.State, reason string, at time.Time) {
	t := metav1.NewTime(at)
	st.Record(version.Commit{SHA: sha, State: s, Reason: reason, FinishedAt: &t})
	if s == status.Deployed {
		st.Deployed = sha
	}
}

// x reaches the branch only through merge m, so it has no entry of its own.
var merged = dag{"m": {"a", "x"}, "x": {"a"}, "j": {"m"}}

func TestCarriedFailureStaysFailedAfterAFixDeploys(t *testing.T) {
	st := &version.VersionStatus{}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	finished(st, "a", status.Deployed, "", t0)
	finished(st, "m", status.Failed, "CrashLoopBackOff", t0.Add(time.Minute))
	before := Judge("x", st, merged)
	if before.State != string(status.Failed) || before.CarriedBy != "m" {
		t.Fatalf("before the fix: %+v, want failed carried by m", before)
	}
	finished(st, "j", status.Deployed, "", t0.Add(2*time.Minute))
	after := Judge("x", st, merged)
	if after != (Verdict{State: before.State, Reason: before.Reason, CarriedBy: "m", Applied: st.Applied, Deployed: "j"}) {
		t.Fatalf("after j deployed: %+v, want the first answer %+v", after, before)
	}
}

func TestUntriedAncestorsTakeTheirCarriersState(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Deployed only: an untried ancestor of the deployed commit is deployed.
	st := &version.VersionStatus{}
	finished(st, "m", status.Deployed, "", t0)
	if v := Judge("x", st, merged); v.State != string(status.Deployed) || v.CarriedBy != "m" {
		t.Fatalf("ancestor of deployed m: %+v", v)
	}
	// Deployed, then a descendant failed: x keeps deployed.
	finished(st, "j", status.Failed, "ImagePullBackOff", t0.Add(time.Minute))
	if v := Judge("x", st, merged); v.State != string(status.Deployed) || v.CarriedBy != "m" {
		t.Fatalf("after j failed: %+v, want still deployed by m", v)
	}
	// Failed only: an untried ancestor of a failed commit is failed.
	st = &version.VersionStatus{}
	finished(st, "a", status.Deployed, "", t0)
	finished(st, "m", status.Failed, "ProgressDeadlineExceeded", t0.Add(time.Minute))
	if v := Judge("x", st, merged); v.State != string(status.Failed) || v.Reason != "carried by m: ProgressDeadlineExceeded" {
		t.Fatalf("ancestor of failed m: %+v", v)
	}
	// A commit with an entry keeps its own state.
	if v := Judge("a", st, merged); v.State != string(status.Deployed) || v.CarriedBy != "" {
		t.Fatalf("a: %+v", v)
	}
}

func TestFinishTimeTiesGoToTheOlderEntry(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := &version.VersionStatus{}
	finished(st, "m", status.Failed, "CrashLoopBackOff", t0)
	finished(st, "j", status.Deployed, "", t0)
	if v := Judge("x", st, merged); v.State != string(status.Failed) || v.CarriedBy != "m" {
		t.Fatalf("tie: %+v, want failed by the older m", v)
	}
}
