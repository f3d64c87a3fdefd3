package syncer

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"path"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/testing/gittree"
)

// commits is a repo of named commits whose head the test moves.
type commits struct {
	mu    sync.Mutex
	head  string
	trees map[string]gittree.Tree
}

func (c *commits) Sync(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.head, nil
}

func (c *commits) Tree(sha string) (fs.FS, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trees[sha], nil
}

func (c *commits) Commits(string, string) ([]string, error) { return nil, nil }

// IsAncestor: the commits are pushed one after another, each on the last.
func (c *commits) IsAncestor(string, string) (bool, error) { return true, nil }

// add records commit sha holding files (path → content).
func (c *commits) add(sha string, files map[string]string) {
	c.mu.Lock()
	c.trees[sha] = gittree.New(files)
	c.mu.Unlock()
}

// push moves the head to sha and fetches, as a poll or webhook would.
func (c *commits) push(ctx context.Context, s *Syncer, sha string) {
	c.mu.Lock()
	c.head = sha
	c.mu.Unlock()
	_, _ = s.Fetch(ctx)
}

// counted renders each file of web/ as a ConfigMap holding its content,
// applies what changed by content and waits on what it is asked to; it
// counts each call, and the objects each wait was for.
type counted struct {
	mu        sync.Mutex
	renders   int
	applies   int
	waits     [][]string
	fail      map[string]bool // ConfigMaps whose rollout fails
	asApplied bool            // the objects written are ready as applied
}

func (c *counted) RenderContext(_ context.Context, tree fs.FS, ns string) ([]*unstructured.Unstructured, error) {
	c.mu.Lock()
	c.renders++
	c.mu.Unlock()
	entries, err := fs.ReadDir(tree, ns)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, e := range entries {
		b, err := fs.ReadFile(tree, path.Join(ns, e.Name()))
		if err != nil {
			return nil, err
		}
		u := configMap(e.Name())
		u.Object["data"] = map[string]any{"v": string(b)}
		out = append(out, u)
	}
	return out, nil
}

func (c *counted) Apply(_ context.Context, _ string, objs []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error) {
	c.mu.Lock()
	c.applies++
	c.mu.Unlock()
	last := map[string]string{}
	for _, e := range prev {
		last[e.Name] = e.Hash
	}
	res := &apply.Result{}
	for _, o := range objs {
		e := entry(o.GetName(), o.Object["data"].(map[string]any)["v"].(string))
		res.Inventory = append(res.Inventory, e)
		if last[e.Name] == e.Hash {
			res.Unchanged = append(res.Unchanged, e.ObjectRef)
		} else {
			res.Applied = append(res.Applied, e.ObjectRef)
			if c.asApplied {
				res.Ready = append(res.Ready, e.ObjectRef)
			}
		}
	}
	return res, nil
}

func (c *counted) Drift(context.Context, string, []*unstructured.Unstructured, []apply.Entry) (*apply.Result, error) {
	return &apply.Result{}, nil
}

func (c *counted) Owned(context.Context, string) ([]apply.Entry, error) { return nil, nil }

func (c *counted) Wait(_ context.Context, _ string, refs []readiness.Object, _ time.Time, progress func(readiness.Progress)) error {
	var names []string
	failed := false
	c.mu.Lock()
	for _, r := range refs {
		names = append(names, r.Name)
		failed = failed || c.fail[r.Name]
	}
	sort.Strings(names)
	c.waits = append(c.waits, names)
	c.mu.Unlock()
	progress(readiness.Progress{Ready: len(refs), Total: len(refs)})
	if failed {
		return errors.New("crash looping")
	}
	return nil
}

func (c *counted) counts() (renders, applies int, waits [][]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.renders, c.applies, append([][]string(nil), c.waits...)
}

// writeCounter counts status writes.
type writeCounter struct {
	*memStore
	mu     sync.Mutex
	writes int
}

func (w *writeCounter) UpdateStatus(ctx context.Context, ns string, fn func(*version.VersionStatus) error) (*version.Version, error) {
	w.mu.Lock()
	w.writes++
	w.mu.Unlock()
	return w.memStore.UpdateStatus(ctx, ns, fn)
}

func (w *writeCounter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}

// A commit that leaves the namespace's inputs as they were is recorded
// deployed in one status write, with no render, apply or wait; a commit
// that changes one object waits on that object only; after a failed
// rollout, every object is waited on again.
func TestWorkIsInProportionToWhatChanged(t *testing.T) {
	src := &commits{head: "a", trees: map[string]gittree.Tree{}}
	src.add("a", map[string]string{"web/one": "1", "web/two": "1", "other/x": "1"})
	src.add("b", map[string]string{"web/one": "1", "web/two": "1", "other/x": "2"})
	src.add("c", map[string]string{"web/one": "2", "web/two": "1", "other/x": "2"})
	src.add("c2", map[string]string{"web/one": "2b", "web/two": "1", "other/x": "2"})
	src.add("d", map[string]string{"web/one": "3", "web/two": "1", "other/x": "2"})
	src.add("e", map[string]string{"web/one": "3", "web/two": "1", "other/x": "3"})
	store := &writeCounter{memStore: &memStore{v: map[string]*version.Version{}}}
	parts := &counted{fail: map[string]bool{}}
	s, err := New(Options{
		Cluster: "c", Namespaces: []string{"web"}, Source: src,
		Renderer: parts, Applier: parts, Readiness: parts, Store: store,
		Events: record.NewFakeRecorder(1000), RetryInterval: 10 * time.Millisecond, RetryBudget: time.Minute,
	})
	require.NoError(t, err)
	ctx := runUntilEnd(t, s)
	h := &harness{t: t, store: store.memStore}
	push := func(sha string) {
		src.mu.Lock()
		src.head = sha
		src.mu.Unlock()
		_, _ = s.Fetch(ctx)
	}

	h.eventually("a", status.Deployed)
	renders, applies, waits := parts.counts()
	require.Equal(t, 1, renders)
	require.Equal(t, [][]string{{"one", "two"}}, waits, "a first sync waits on every object")
	writes := store.count()

	push("b") // only another namespace's files changed
	h.eventually("b", status.Deployed)
	r, a, w := parts.counts()
	require.Equal(t, renders, r, "not rendered")
	require.Equal(t, applies, a, "not applied")
	require.Equal(t, waits, w, "not waited for")
	require.Equal(t, writes+1, store.count(), "recorded in one status write")
	st := store.get("web")
	require.Equal(t, "b", st.Applied)
	require.Equal(t, int32(2), st.Find("b").Total)
	require.Equal(t, int32(2), st.Find("b").Ready)

	push("c") // one object changed
	h.eventually("c", status.Deployed)
	r, _, w = parts.counts()
	require.Equal(t, renders+1, r)
	require.Equal(t, []string{"one"}, w[len(w)-1], "only the object written is waited on")
	st = store.get("web")
	require.Equal(t, int32(2), st.Find("c").Ready, "the others count as ready")

	parts.mu.Lock()
	parts.asApplied = true
	parts.mu.Unlock()
	writes = store.count()
	push("c2") // one object changed, ready as the server answered its apply
	h.eventually("c2", status.Deployed)
	_, _, w = parts.counts()
	require.Empty(t, w[len(w)-1], "nothing to wait for")
	require.Equal(t, writes+4, store.count(), "begun, applying, rolling out, deployed: no progress write")
	st = store.get("web")
	require.Equal(t, int32(2), st.Find("c2").Ready)
	parts.mu.Lock()
	parts.asApplied = false
	parts.mu.Unlock()

	parts.mu.Lock()
	parts.fail["one"] = true
	parts.mu.Unlock()
	push("d")
	h.eventually("d", status.Failed)
	parts.mu.Lock()
	parts.fail["one"] = false
	parts.mu.Unlock()

	push("e") // the same inputs as d, whose rollout failed: tried in full
	h.eventually("e", status.Deployed)
	r, _, w = parts.counts()
	require.Equal(t, renders+4, r, "rendered again: the namespace was not settled")
	require.Equal(t, []string{"one", "two"}, w[len(w)-1], "every object is waited on again")
}

// drifting is counted whose drift correction, once armed, re-applies cm-a
// and closes cm-a's readiness again (a hand-edited workload whose
// re-applied template starts a rollout), until the test opens it.
type drifting struct {
	*counted
	armed   chan struct{} // closed to let the next drift check re-apply cm-a
	drifted chan struct{} // closed once it did
	open    chan struct{} // closed when cm-a is ready again
	waiting chan struct{} // closed once a rollout wait is held up by cm-a
	once    sync.Once
}

func (d *drifting) Drift(context.Context, string, []*unstructured.Unstructured, []apply.Entry) (*apply.Result, error) {
	select {
	case <-d.armed:
	default:
		return &apply.Result{}, nil
	}
	res := &apply.Result{}
	d.once.Do(func() {
		res.Applied = []apply.ObjectRef{entry("cm-a", "").ObjectRef}
		close(d.drifted)
	})
	return res, nil
}

// requireHeldUp checks that sha is not deployed while cm-a, re-applied
// by drift, is not ready, and is once it is, after a wait for every
// object; it returns the counts of applies and waits then.
func (d *drifting) requireHeldUp(t *testing.T, h *harness, sha string) (applies int, waits [][]string) {
	t.Helper()
	require.Eventually(t, func() bool {
		select {
		case <-d.waiting:
			return true
		default:
		}
		st, _ := stateOf(h.store.get("web"), sha)
		return st == status.Deployed
	}, 5*time.Second, time.Millisecond, "%s neither deployed nor waiting for cm-a", sha)
	st, _ := stateOf(h.store.get("web"), sha)
	require.NotEqual(t, status.Deployed, st, "%s deployed while cm-a, re-applied by drift, is not ready", sha)

	close(d.open)
	h.eventually(sha, status.Deployed)
	_, applies, waits = d.counts()
	require.Equal(t, []string{"cm-a", "cm-b"}, waits[len(waits)-1], "every object is waited for")
	return applies, waits
}

func (d *drifting) Wait(ctx context.Context, ns string, refs []readiness.Object, deadline time.Time, progress func(readiness.Progress)) error {
	select {
	case <-d.drifted:
	default:
		return d.counted.Wait(ctx, ns, refs, deadline, progress)
	}
	for _, r := range refs {
		if r.Name != "cm-a" {
			continue
		}
		progress(readiness.Progress{Ready: len(refs) - 1, Total: len(refs)})
		select {
		case <-d.waiting:
		default:
			close(d.waiting)
		}
		select {
		case <-d.open:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return d.counted.Wait(ctx, ns, refs, deadline, progress)
}

// Objects a drift correction re-applied are not taken for ready: the next
// commit, whether its inputs here are the applied commit's or it changes
// other objects only, is deployed only once they are ready again.
func TestDriftCorrectionUnsettlesTheNamespace(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"same inputs", map[string]string{"web/cm-a": "1", "web/cm-b": "1", "other/x": "2"}},
		{"another object changed", map[string]string{"web/cm-a": "1", "web/cm-b": "2", "other/x": "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &commits{head: "a", trees: map[string]gittree.Tree{}}
			src.add("a", map[string]string{"web/cm-a": "1", "web/cm-b": "1", "other/x": "1"})
			src.add("c", tc.files)
			store := &memStore{v: map[string]*version.Version{}}
			parts := &drifting{
				counted: &counted{fail: map[string]bool{}},
				armed:   make(chan struct{}), drifted: make(chan struct{}),
				open: make(chan struct{}), waiting: make(chan struct{}),
			}
			s, err := New(Options{
				Cluster: "c", Namespaces: []string{"web"}, Source: src,
				Renderer: parts, Applier: parts, Readiness: parts, Store: store,
				Events: record.NewFakeRecorder(1000), RetryInterval: 10 * time.Millisecond, RetryBudget: time.Minute,
				DriftInterval: time.Millisecond,
			})
			require.NoError(t, err)
			ctx := runUntilEnd(t, s)
			h := &harness{t: t, store: store}
			h.eventually("a", status.Deployed)

			close(parts.armed)
			select {
			case <-parts.drifted:
			case <-time.After(5 * time.Second):
				t.Fatal("no drift correction ran")
			}
			src.push(ctx, s, "c")
			applies, waits := parts.requireHeldUp(t, h, "c")

			// Judged by that wait, the namespace is settled again: a commit
			// with c's inputs here is recorded deployed without an apply or
			// a wait (drift checks render the applied commit meanwhile).
			d := maps.Clone(tc.files)
			d["other/x"] += "+"
			src.add("d", d)
			src.push(ctx, s, "d")
			h.eventually("d", status.Deployed)
			_, a, w := parts.counts()
			require.Equal(t, applies, a, "d not applied")
			require.Equal(t, waits, w, "d not waited for")
		})
	}
}
