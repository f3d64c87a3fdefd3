package syncer

import (
	"context"
	"errors"
	"io/fs"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/sync/render"
)

// The parts around a worker, in memory.

type memStore struct {
	mu sync.Mutex
	v  map[string]*version.Version
}

func (m *memStore) Ensure(_ context.Context, ns string, spec version.VersionSpec) (*version.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.v[ns] == nil {
		m.v[ns] = &version.Version{Spec: spec}
		m.v[ns].Namespace, m.v[ns].Name = ns, "syncgate"
	}
	return m.v[ns].DeepCopy(), nil
}

func (m *memStore) UpdateStatus(_ context.Context, ns string, fn func(*version.VersionStatus) error) (*version.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.v[ns] == nil {
		return nil, version.ErrNotFound
	}
	v := m.v[ns].DeepCopy()
	if err := fn(&v.Status); err != nil {
		return nil, err
	}
	m.v[ns] = v
	return v.DeepCopy(), nil
}

func (m *memStore) get(ns string) version.VersionStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.v[ns] == nil {
		return version.VersionStatus{}
	}
	return *m.v[ns].Status.DeepCopy()
}

type oneCommit string

func (c oneCommit) Sync(context.Context) (string, error)     { return string(c), nil }
func (c oneCommit) Tree(string) (fs.FS, error)               { return fstest.MapFS{}, nil }
func (c oneCommit) Commits(string, string) ([]string, error) { return nil, nil }
func (c oneCommit) IsAncestor(string, string) (bool, error)  { return true, nil }

type renderFunc func() ([]*unstructured.Unstructured, error)

func (f renderFunc) RenderContext(context.Context, fs.FS, string) ([]*unstructured.Unstructured, error) {
	return f()
}

type applyFunc func(prev []apply.Entry) (*apply.Result, error)

func (f applyFunc) Apply(_ context.Context, _ string, _ []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error) {
	return f(prev)
}
func (f applyFunc) Drift(context.Context, string, []*unstructured.Unstructured, []apply.Entry) (*apply.Result, error) {
	return &apply.Result{}, nil
}
func (f applyFunc) Owned(context.Context, string) ([]apply.Entry, error) { return nil, nil }

type readyAtOnce struct{}

func (readyAtOnce) Wait(context.Context, string, []readiness.Object, time.Time, func(readiness.Progress)) error {
	return nil
}

func configMap(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetNamespace("web")
	u.SetName(name)
	return u
}

func entry(name, hash string) apply.Entry {
	return apply.Entry{ObjectRef: apply.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: name}, Hash: hash}
}

// runWorker runs a Syncer on commit c1 for namespace web until the test
// ends; its metrics are in the registry returned.
func runWorker(t *testing.T, store *memStore, r Renderer, a Applier) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := New(Options{
		Cluster: "c", Namespaces: []string{"web"}, Source: oneCommit("c1"),
		Renderer: r, Applier: a, Readiness: readyAtOnce{}, Store: store,
		Events: record.NewFakeRecorder(100), RetryInterval: 10 * time.Millisecond, Metrics: reg,
	})
	require.NoError(t, err)
	runUntilEnd(t, s)
	return reg
}

// observed is how many observations metric name holds under a label of
// value: a counter's value or a histogram's sample count.
func observed(t *testing.T, reg *prometheus.Registry, name, value string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == value {
					n += m.GetHistogram().GetSampleCount() + uint64(m.GetCounter().GetValue())
				}
			}
		}
	}
	return n
}

func stateOf(st version.VersionStatus, sha string) (status.State, string) {
	if c := st.Find(sha); c != nil {
		return c.State, c.Reason
	}
	return "", ""
}

func TestRenderTroubleIsRetriedAndRefusalFails(t *testing.T) {
	t.Run("trouble", func(t *testing.T) {
		store := &memStore{v: map[string]*version.Version{}}
		var mu sync.Mutex
		renders, applies := 0, 0
		reg := runWorker(t, store, renderFunc(func() ([]*unstructured.Unstructured, error) {
			mu.Lock()
			defer mu.Unlock()
			if renders++; renders < 3 {
				return nil, errors.New("discovery: the server is currently unable to handle the request")
			}
			return []*unstructured.Unstructured{configMap("a")}, nil
		}), applyFunc(func([]apply.Entry) (*apply.Result, error) {
			mu.Lock()
			applies++
			mu.Unlock()
			return &apply.Result{Inventory: []apply.Entry{entry("a", "h1")}}, nil
		}))
		require.Eventually(t, func() bool { s, _ := stateOf(store.get("web"), "c1"); return s == status.Deployed }, 5*time.Second, time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, 3, renders)
		require.Equal(t, 1, applies)
		require.Eventually(t, func() bool {
			return observed(t, reg, "syncgate_syncer_rollout_duration_seconds", "deployed") == 1 &&
				observed(t, reg, "syncgate_syncer_commits_total", "deployed") == 1
		}, 5*time.Second, time.Millisecond, "one rollout and one commit, deployed")
		require.Zero(t, observed(t, reg, "syncgate_syncer_commits_total", "failed"))
	})
	t.Run("refusal", func(t *testing.T) {
		store := &memStore{v: map[string]*version.Version{}}
		reg := runWorker(t, store, renderFunc(func() ([]*unstructured.Unstructured, error) {
			return nil, &render.Error{File: "web/app.yaml", Err: render.ErrInvalid}
		}), applyFunc(func([]apply.Entry) (*apply.Result, error) {
			t.Error("a refused commit must not be applied")
			return nil, nil
		}))
		require.Eventually(t, func() bool { s, _ := stateOf(store.get("web"), "c1"); return s == status.Failed }, 5*time.Second, time.Millisecond)
		_, reason := stateOf(store.get("web"), "c1")
		require.Contains(t, reason, "web/app.yaml")
		require.Eventually(t, func() bool { return observed(t, reg, "syncgate_syncer_commits_total", "failed") == 1 },
			5*time.Second, time.Millisecond)
		require.Zero(t, observed(t, reg, "syncgate_syncer_rollout_duration_seconds", "deployed"), "a refused commit rolls nothing out")
	})
}

func TestFailedApplyKeepsWhatItWrote(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	store.v["web"] = &version.Version{Status: version.VersionStatus{Inventory: inventoryOf([]apply.Entry{entry("kept", "k0"), entry("changed", "c0")})}}
	runWorker(t, store, renderFunc(func() ([]*unstructured.Unstructured, error) {
		return []*unstructured.Unstructured{configMap("kept"), configMap("changed"), configMap("created"), configMap("refused")}, nil
	}), applyFunc(func(prev []apply.Entry) (*apply.Result, error) {
		// "changed" and "created" were written before the API refused "refused".
		return &apply.Result{Inventory: []apply.Entry{entry("kept", "k0"), entry("changed", "c1"), entry("created", "n1")}},
			&apply.ObjectError{Object: entry("refused", "").ObjectRef, Err: apierrors.NewBadRequest(`admission webhook "policy.example.com" denied the request`)}
	}))
	require.Eventually(t, func() bool { s, _ := stateOf(store.get("web"), "c1"); return s == status.Failed }, 5*time.Second, time.Millisecond)
	got := map[string]string{}
	for _, e := range store.get("web").Inventory {
		got[e.Name] = e.Hash
	}
	require.Equal(t, map[string]string{"kept": "k0", "changed": "", "created": ""}, got,
		"written objects are known for pruning, with no hash so the next commit sends them")
}

func TestIdleIsToldOnceTheCommitIsRecorded(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	idle := make(chan struct{}, 10)
	s, err := New(Options{
		Cluster: "c", Namespaces: []string{"web"}, Source: oneCommit("c1"),
		Renderer: renderFunc(func() ([]*unstructured.Unstructured, error) {
			return []*unstructured.Unstructured{configMap("a")}, nil
		}),
		Applier: applyFunc(func([]apply.Entry) (*apply.Result, error) {
			return &apply.Result{Inventory: []apply.Entry{entry("a", "a1")}}, nil
		}),
		Readiness: readyAtOnce{}, Store: store, Events: record.NewFakeRecorder(100),
		RetryInterval: 10 * time.Millisecond, Idle: func() { idle <- struct{}{} },
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	_, _ = s.Fetch(ctx)
	go func() { defer close(done); _ = s.Run(ctx) }()
	select {
	case <-idle:
	case <-time.After(5 * time.Second):
		t.Fatal("Idle not told after the commit")
	}
	st, _ := stateOf(store.get("web"), "c1")
	require.Equal(t, status.Deployed, st, "Idle is told once the commit is recorded")
}
