package syncer

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
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
			require.Equal(t, lifecycle.DroppedReason("a"), v.Reason)
			reports := out.of("b")
			require.NotEmpty(t, reports)
			require.Equal(t, status.Failed, reports[len(reports)-1].State, "CI is told")
			require.Equal(t, lifecycle.DroppedReason("a"), reports[len(reports)-1].Reason)
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
