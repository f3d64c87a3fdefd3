package syncer

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
)

// owedLog is an outbox that keeps the reports recorded.
type owedLog struct {
	mu  sync.Mutex
	got []status.Update
}

func (o *owedLog) Record(_ *version.VersionStatus, u status.Update) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, u)
}

func (o *owedLog) Kick() {}

func (o *owedLog) of(sha string) []status.Update {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(o.got), func(u status.Update) bool { return u.SHA != sha })
}

// A commit begun and then dropped by a force-push back to the applied
// commit (its render hit transient trouble meanwhile) fails, with the
// report a failure owes, and the namespace reports the applied commit
// again: deployed, or its rollout still awaited. Pushed again, the dropped
// commit is a fresh attempt.
func TestResetBeforeApplyFailsTheDroppedCommit(t *testing.T) {
	for _, rolling := range []bool{false, true} {
		t.Run(map[bool]string{false: "applied deployed", true: "applied rolling out"}[rolling], func(t *testing.T) {
			store := &memStore{v: map[string]*version.Version{}}
			var trouble sync.Mutex
			troubled := true
			parts := &scripted{render: func(sha string) ([]*unstructured.Unstructured, error) {
				trouble.Lock()
				defer trouble.Unlock()
				if sha == "b" && troubled {
					return nil, errors.New("config repo: connection reset")
				}
				return []*unstructured.Unstructured{configMap("cm-" + sha)}, nil
			}}
			g := newGate()
			if !rolling {
				g.open["cm-a"] = true
			}
			g.open["cm-b"] = true
			out := &owedLog{}
			h := start(t, store, "a", parts, g, func(o *Options) { o.Outbox = out })
			if rolling {
				h.eventually("a", status.RollingOut)
			} else {
				h.eventually("a", status.Deployed)
			}

			h.push("b")
			h.eventually("b", status.Fetched)
			h.push("a")
			h.eventually("b", status.Failed)

			st := store.get("web")
			require.Equal(t, "a", st.Head)
			require.Equal(t, "a", st.Applied)
			v := lifecycle.Judge("b", &st, nil)
			require.True(t, v.Final())
			require.Equal(t, lifecycle.DroppedReason("a", false), v.Reason)
			reports := out.of("b")
			require.NotEmpty(t, reports)
			require.Equal(t, status.Failed, reports[len(reports)-1].State, "CI is told")
			require.Equal(t, lifecycle.DroppedReason("a", false), reports[len(reports)-1].Reason)
			if rolling {
				require.True(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionReconciling))
				g.let("cm-a")
				h.eventually("a", status.Deployed)
				st = store.get("web")
			}
			require.True(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionReady), "%+v", st.Conditions)
			require.False(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionReconciling))
			_, _, inFlight := lifecycle.InFlight(&st)
			require.False(t, inFlight)

			trouble.Lock()
			troubled = false
			trouble.Unlock()
			h.push("b")
			h.eventually("b", status.Deployed)
			require.Equal(t, []string{"a", "b"}, parts.calls(), "b is applied once pushed again, a never again")
		})
	}
}

// A reset to the applied commit after another commit wrote part of its
// objects (refused half-way, or its apply in trouble) applies the applied
// commit again: what the other commit changed is sent again, what it added
// is pruned, and the applied commit is deployed again. Before, the
// namespace went idle with the other commit's objects left in place.
func TestResetAfterAPartWriteAppliesTheAppliedCommitAgain(t *testing.T) {
	for _, refused := range []bool{false, true} {
		t.Run(map[bool]string{false: "b in trouble", true: "b refused half-way"}[refused], func(t *testing.T) {
			store := &memStore{v: map[string]*version.Version{}}
			var mu sync.Mutex
			var prevOfA [][]apply.Entry
			bApplied := false
			parts := &scripted{}
			parts.render = func(sha string) ([]*unstructured.Unstructured, error) {
				mu.Lock()
				defer mu.Unlock()
				if sha == "b" && bApplied {
					return nil, errors.New("config repo: connection reset") // b stays in trouble
				}
				return []*unstructured.Unstructured{configMap("cm-" + sha)}, nil
			}
			parts.apply = func(sha string, prev []apply.Entry) (*apply.Result, error) {
				mu.Lock()
				defer mu.Unlock()
				if sha == "a" {
					prevOfA = append(prevOfA, slices.Clone(prev))
					return &apply.Result{Inventory: []apply.Entry{entry("cm-a", "h-a")}}, nil
				}
				bApplied = true
				written := &apply.Result{Inventory: append(slices.Clone(prev), entry("cm-b", "h-b"))}
				if refused {
					return written, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "s", errors.New("denied"))
				}
				return written, errors.New("connection reset by peer")
			}
			g := newGate()
			g.open["cm-a"] = true
			out := &owedLog{}
			h := start(t, store, "a", parts, g, func(o *Options) { o.Outbox = out })
			h.eventually("a", status.Deployed)

			h.push("b")
			if refused {
				h.eventually("b", status.Failed)
			} else {
				h.eventually("b", status.Applying)
			}
			require.Eventually(t, func() bool { st := store.get("web"); return lifecycle.PartlyWritten(&st) }, 10*time.Second, time.Millisecond)
			h.push("a")
			h.eventually("b", status.Failed)
			require.Eventually(t, func() bool {
				st := store.get("web")
				return len(parts.calls()) == 3 && st.Find("a").State == status.Deployed && !lifecycle.PartlyWritten(&st)
			}, 10*time.Second, time.Millisecond, "a is applied again and deployed")

			st := store.get("web")
			require.Equal(t, []string{"a", "b", "a"}, parts.calls())
			mu.Lock()
			require.Len(t, prevOfA, 2)
			require.Contains(t, prevOfA[1], entry("cm-b", ""), "what b added is in the inventory a is applied over, to be pruned")
			mu.Unlock()
			require.Equal(t, inventoryOf([]apply.Entry{entry("cm-a", "h-a")}), st.Inventory)
			if !refused {
				require.Equal(t, lifecycle.DroppedReason("a", true), lifecycle.Judge("b", &st, nil).Reason)
			}
			require.True(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionReady), "%+v", st.Conditions)
			reports := out.of("a")
			require.Equal(t, status.Deployed, reports[len(reports)-1].State, "CI is told a is deployed again")
		})
	}
}
