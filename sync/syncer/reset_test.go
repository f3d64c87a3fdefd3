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
	"github.com/syncgate/syncgate/sync/render"
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

// partWriter is a namespace whose commit a is deployed with cm-a, and
// whose apply of b writes cm-b and fails with bErr; a is applied with its
// own object alone, unless aErr says otherwise. b's render is in trouble
// once b was applied, so b stays unfinished when bErr is transient.
type partWriter struct {
	*scripted
	mu       sync.Mutex
	prevOfA  [][]apply.Entry
	bApplied bool
	bErr     error
	aErr     error
}

func newPartWriter(bErr error) *partWriter {
	p := &partWriter{scripted: &scripted{}, bErr: bErr}
	p.render = func(sha string) ([]*unstructured.Unstructured, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if sha == "b" && p.bApplied {
			return nil, errors.New("config repo: connection reset")
		}
		if sha == "c" {
			return nil, &render.Error{File: "web/app.yaml", Err: render.ErrInvalid}
		}
		return []*unstructured.Unstructured{configMap("cm-" + sha)}, nil
	}
	p.apply = func(sha string, prev []apply.Entry) (*apply.Result, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if sha == "a" {
			p.prevOfA = append(p.prevOfA, slices.Clone(prev))
			if len(p.prevOfA) > 1 && p.aErr != nil {
				return &apply.Result{Inventory: prev}, p.aErr
			}
			return &apply.Result{Inventory: []apply.Entry{entry("cm-a", "h-a")}}, nil
		}
		p.bApplied = true
		return &apply.Result{Inventory: append(slices.Clone(prev), entry("cm-b", "h-b"))}, p.bErr
	}
	return p
}

// start runs the namespace until a is deployed; out, if not nil, keeps
// the reports owed.
func (p *partWriter) start(t *testing.T, out *owedLog) *harness {
	t.Helper()
	g := newGate()
	g.open["cm-a"] = true
	h := start(t, &memStore{v: map[string]*version.Version{}}, "a", p.scripted, g, func(o *Options) {
		if out != nil {
			o.Outbox = out
		}
	})
	h.eventually("a", status.Deployed)
	return h
}

// requireRestored checks that a was applied again over what b wrote, so
// that b's addition is pruned, its own verdict standing: deployed, with no
// report owed for it beyond the aReports it had; and b failed.
func (p *partWriter) requireRestored(t *testing.T, h *harness, out *owedLog, aReports int) {
	t.Helper()
	require.Eventually(t, func() bool {
		st := h.store.get("web")
		return len(p.calls()) == 3 && st.Restoring == "" && !lifecycle.PartlyWritten(&st)
	}, 10*time.Second, time.Millisecond, "a is applied again")
	st := h.store.get("web")
	require.Equal(t, []string{"a", "b", "a"}, p.calls())
	p.mu.Lock()
	require.Len(t, p.prevOfA, 2)
	require.Contains(t, p.prevOfA[1], entry("cm-b", ""), "what b added is in the inventory a is applied over, to be pruned")
	p.mu.Unlock()
	require.Equal(t, inventoryOf([]apply.Entry{entry("cm-a", "h-a")}), st.Inventory)
	require.Equal(t, status.Deployed, st.Find("a").State, "a keeps its verdict")
	require.Len(t, out.of("a"), aReports, "nothing more is reported for a")
	reports := out.of("b")
	require.Equal(t, status.Failed, reports[len(reports)-1].State)
}

// A reset to the applied commit while another commit, in trouble, had
// written part of its objects applies the applied commit again, its
// verdict standing: what the other commit changed is sent again, what it
// added is pruned. Before, the namespace went idle with the other commit's
// objects left in place.
func TestResetAfterAPartWriteRestoresTheAppliedCommit(t *testing.T) {
	parts := newPartWriter(errors.New("connection reset by peer"))
	out := &owedLog{}
	h := parts.start(t, out)
	aReports := len(out.of("a"))
	h.push("b")
	h.eventually("b", status.Applying)
	require.Eventually(t, func() bool { st := h.store.get("web"); return lifecycle.PartlyWritten(&st) }, 10*time.Second, time.Millisecond)
	h.push("a")
	h.eventually("b", status.Failed)
	parts.requireRestored(t, h, out, aReports)
	st := h.store.get("web")
	require.Equal(t, lifecycle.DroppedReason("a", true), lifecycle.Judge("b", &st, nil).Reason)
	require.True(t, meta.IsStatusConditionTrue(st.Conditions, version.ConditionReady), "the branch is back at a: %+v", st.Conditions)
}

// A commit refused after it wrote part of its objects (the API server took
// some, then refused one) leaves the cluster as it was: the applied commit
// is applied again at once, its verdict standing. Before, the namespace
// reported the applied commit deployed while the refused commit's objects
// ran. A restore refused in turn ends: it is not tried in a loop, only
// once more when a later commit is refused.
func TestAPartWriteRefusedRestoresTheAppliedCommit(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "s", errors.New("denied"))
	t.Run("restored", func(t *testing.T) {
		parts := newPartWriter(forbidden)
		out := &owedLog{}
		h := parts.start(t, out)
		aReports := len(out.of("a"))
		h.push("b")
		h.eventually("b", status.Failed)
		parts.requireRestored(t, h, out, aReports)
		st := h.store.get("web")
		require.Equal(t, "b", st.Head, "b is not tried again")
	})
	t.Run("restore refused", func(t *testing.T) {
		parts := newPartWriter(forbidden)
		parts.aErr = forbidden
		h := parts.start(t, nil)
		h.push("b")
		h.eventually("b", status.Failed)
		require.Eventually(t, func() bool {
			st := h.store.get("web")
			return len(parts.calls()) == 3 && st.Restoring == ""
		}, 10*time.Second, time.Millisecond, "a's restore tried and ended")
		st := h.store.get("web")
		require.Equal(t, status.Deployed, st.Find("a").State, "a keeps its verdict")
		require.True(t, lifecycle.PartlyWritten(&st), "what b wrote stays known, for a later commit")
		step, _ := lifecycle.Plan(&st, "b")
		require.Equal(t, lifecycle.Idle, step, step.String())

		h.push("c") // refused at render, what b wrote still there
		h.eventually("c", status.Failed)
		require.Eventually(t, func() bool {
			st := h.store.get("web")
			return len(parts.calls()) == 4 && st.Restoring == ""
		}, 10*time.Second, time.Millisecond, "a's restore tried once more and ended")
		st = h.store.get("web")
		step, _ = lifecycle.Plan(&st, "c")
		require.Equal(t, lifecycle.Idle, step, step.String())
		require.Equal(t, []string{"a", "b", "a", "a"}, parts.calls())
	})
}
