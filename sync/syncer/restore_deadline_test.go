package syncer

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
)

// restoringA is a namespace whose commit a holds cm-a and whose commit b,
// cm-b and, when overA, cm-a too, is refused after writing them: the
// restore of a sends again what b wrote of a's (a's hash gone from the
// inventory) and prunes cm-b.
func restoringA(overA bool) *scripted {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "cm-b", errors.New("denied by a webhook"))
	parts := &scripted{render: func(sha string) ([]*unstructured.Unstructured, error) {
		objs := []*unstructured.Unstructured{configMap("cm-" + sha)}
		if sha == "b" && overA {
			objs = append(objs, configMap("cm-a"))
		}
		return objs, nil
	}}
	parts.apply = func(sha string, prev []apply.Entry) (*apply.Result, error) {
		if sha == "b" {
			live := append(slices.Clone(prev), entry("cm-b", "h-b"))
			if overA {
				live[slices.Index(live, entry("cm-a", "h-a"))] = entry("cm-a", "h-b")
			}
			return &apply.Result{Inventory: live}, forbidden
		}
		a := entry("cm-a", "h-a")
		res := &apply.Result{Inventory: []apply.Entry{a}}
		if slices.Contains(prev, a) {
			res.Unchanged = []apply.ObjectRef{a.ObjectRef}
		} else {
			res.Applied = []apply.ObjectRef{a.ObjectRef}
		}
		return res, nil
	}
	return parts
}

// A restore that sends the applied commit's objects again while its
// rollout is unanswered begins that rollout again: it is given a whole
// health timeout from the restore, recorded in the Version for a leader
// that takes it over. A restore that sent nothing of the commit's (it
// pruned only) leaves its deadline as it was. Before, a commit refused
// part-way just before the applied commit's deadline had it judged at that
// deadline, right after the restore rolled its objects out again, and
// failed "health timeout" for a rollout the agent itself had restarted.
func TestARestoreGivesTheRolloutItBeganAgainAHealthTimeout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		overA bool
		want  time.Time
	}{
		{"b wrote over a's objects", true, t0.Add(9 * time.Minute)},
		{"b only added its own", false, t0.Add(5 * time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk, store := newClock(), &memStore{v: map[string]*version.Version{}}
			ready := &onClock{clock: clk}
			parts := restoringA(tc.overA)
			h := start(t, store, "a", parts, ready, func(o *Options) { o.Now, o.HealthTimeout = clk.Now, 5*time.Minute })
			h.eventually("a", status.RollingOut)
			require.Eventually(t, ready.waits(1), 5*time.Second, time.Millisecond)

			clk.advance(4 * time.Minute)
			h.push("b")
			h.eventually("b", status.Failed)
			require.Eventually(t, ready.waits(2), 5*time.Second, time.Millisecond, "a awaited after its restore")
			require.Equal(t, []string{"a", "b", "a"}, parts.calls())
			given := ready.deadlines()
			require.Equal(t, tc.want, given[len(given)-1])
			st := store.get("web")
			require.Equal(t, t0, st.Find("a").AppliedAt.Time, "a restore is no apply of a")
			require.Equal(t, tc.want, (&worker{s: h.s, version: &version.Version{Status: st}}).healthDeadline("a"),
				"a leader taking over reads the same deadline from the Version")

			clk.advance(2 * time.Minute) // past a's apply + 5m
			if tc.overA {
				ready.let("cm-a")
				clk.advance(time.Second)
				h.eventually("a", status.Deployed)
				return
			}
			h.eventually("a", status.Failed)
			requireTimedOut(t, store, "a")
		})
	}
}
