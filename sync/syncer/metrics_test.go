package syncer

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/metricstest"
)

const startedMetric = "syncgate_syncer_commit_started_timestamp_seconds"

// gauge is the value of a gauge for namespace ns, and whether it exists.
func gauge(t *testing.T, reg *prometheus.Registry, name, ns string) (float64, bool) {
	t.Helper()
	m, ok := metricstest.Find(t, reg, name, "namespace", ns)
	return m.GetGauge().GetValue(), ok
}

// leader runs a Syncer over namespace web on parts until its stop is
// called, as one leadership term does.
func leader(t *testing.T, store *memStore, head string, parts *scripted, ready Readiness, reg *prometheus.Registry) (stop func()) {
	t.Helper()
	s, err := New(Options{
		Cluster: "c", Namespaces: []string{"web"}, Source: &movingHead{head: head},
		Renderer: parts, Applier: parts, Readiness: ready, Store: store, Metrics: reg,
		Events: record.NewFakeRecorder(1000), RetryInterval: 10 * time.Millisecond, RetryBudget: time.Minute,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	_, _ = s.Fetch(ctx)
	go func() { defer close(done); _ = s.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// The commit in flight is reported by whoever leads now, from when the
// Version says it began: a leader that takes over a rollout another began
// reports it, and a replica that stops leading stops reporting, so the
// SyncgateCommitNotFinal alert neither misses a commit nor outlives it.
func TestCommitInFlightIsReportedByTheLeader(t *testing.T) {
	began := time.Unix(1_700_000_000, 0)
	store := &memStore{v: map[string]*version.Version{"web": {Status: version.VersionStatus{
		Applied: "a", Head: "a", Inventory: inventoryOf([]apply.Entry{entry("cm-a", "h-a")}),
	}}}}
	c := store.v["web"].Status.Upsert("a")
	c.State, c.FetchedAt = status.RollingOut, &metav1.Time{Time: began}

	// A new leader finds a rollout the last one began.
	ready := newGate()
	reg := prometheus.NewRegistry()
	stop := leader(t, store, "a", &scripted{}, ready, reg)
	require.Eventually(t, func() bool { v, ok := gauge(t, reg, startedMetric, "web"); return ok && v == float64(began.Unix()) },
		5*time.Second, time.Millisecond, "the rollout taken over is reported from when it began")
	stop()
	_, ok := gauge(t, reg, startedMetric, "web")
	require.False(t, ok, "a replica that no longer leads reports nothing in flight")

	// The next leader reports it until it is final.
	reg = prometheus.NewRegistry()
	leader(t, store, "a", &scripted{}, ready, reg)
	require.Eventually(t, func() bool { _, ok := gauge(t, reg, startedMetric, "web"); return ok }, 5*time.Second, time.Millisecond)
	ready.let("cm-a")
	require.Eventually(t, func() bool { s, _ := stateOf(store.get("web"), "a"); return s == status.Deployed }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool { _, ok := gauge(t, reg, startedMetric, "web"); return !ok }, 5*time.Second, time.Millisecond)
}
