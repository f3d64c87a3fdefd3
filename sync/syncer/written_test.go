package syncer

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
)

// ctxStore is memStore whose writes fail once their ctx ended, as the API
// server's do.
type ctxStore struct{ *memStore }

func (c ctxStore) UpdateStatus(ctx context.Context, ns string, fn func(*version.VersionStatus) error) (*version.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.memStore.UpdateStatus(ctx, ns, fn)
}

// cutShort is an applier whose Apply, once the test let it begin, writes
// object "created" and waits until its ctx ends: the write was stored,
// its answer lost.
type cutShort struct {
	applyFunc
	applying chan struct{}
}

func (c cutShort) Apply(ctx context.Context, _ string, _ []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error) {
	c.applying <- struct{}{}
	<-ctx.Done()
	return &apply.Result{Inventory: append(prev, entry("created", "n1"))}, ctx.Err()
}

// What an apply cut short by shutdown or a lost leadership wrote is
// recorded all the same, unless another leader wrote the Version since:
// its record stands. Before, the write was made with the ended ctx and
// failed, so a later head that dropped the object never pruned it.
func TestWhatAnApplyCutShortWroteIsRecorded(t *testing.T) {
	for _, tc := range []struct {
		name string
		// meanwhile is written while the apply runs.
		meanwhile func(*version.VersionStatus)
		want      map[string]string
	}{{
		name: "shutdown, a report delivered meanwhile",
		meanwhile: func(st *version.VersionStatus) {
			st.Owed = append(st.Owed, version.OwedReport{Sink: "s3", SHA: "c1", State: status.Deployed})
		},
		want: map[string]string{"kept": "k0", "created": ""},
	}, {
		name: "another leader took over",
		meanwhile: func(st *version.VersionStatus) {
			st.Head = "c2"
			st.Inventory = inventoryOf([]apply.Entry{entry("theirs", "t1")})
		},
		want: map[string]string{"theirs": "t1"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			mem := &memStore{v: map[string]*version.Version{}}
			mem.v["web"] = &version.Version{Status: version.VersionStatus{Inventory: inventoryOf([]apply.Entry{entry("kept", "k0")})}}
			parts := cutShort{applying: make(chan struct{}, 1)}
			cancel, ran := runCancellable(t, applyingC1(t, parts, ctxStore{mem}, nil))
			await(t, parts.applying, "c1 applied")
			_, err := mem.UpdateStatus(context.Background(), "web", func(st *version.VersionStatus) error {
				tc.meanwhile(st)
				return nil
			})
			require.NoError(t, err)
			cancel()
			await(t, ran, "the Run ended")
			require.Equal(t, tc.want, hashes(mem))
		})
	}
}

// memLedger is memStore as the outbox reads and writes it.
type memLedger struct{ *memStore }

func (l memLedger) List(_ context.Context, ns string) ([]version.OwedReport, error) {
	return l.get(ns).Owed, nil
}

func (l memLedger) Update(ctx context.Context, ns string, fn func(*version.VersionStatus) error) error {
	_, err := l.UpdateStatus(ctx, ns, fn)
	return err
}

// accepting is a sink that takes every report.
type accepting struct{}

func (accepting) Name() string                                { return "s3" }
func (accepting) Report(context.Context, status.Update) error { return nil }

// The outbox delivers the report an attempt's mark owes while its apply
// runs, and sets the Reporting condition as it does: the Version is the
// syncer's as it last wrote it all the same, so what the apply cut short
// wrote is recorded over it. Before, the condition was taken for another
// leader's write and the inventory was lost.
func TestWhatAnApplyCutShortWroteIsRecordedOverADelivery(t *testing.T) {
	mem := &memStore{v: map[string]*version.Version{}}
	mem.v["web"] = &version.Version{Status: version.VersionStatus{Inventory: inventoryOf([]apply.Entry{entry("kept", "k0")})}}
	d, err := outbox.NewDeliverer(outbox.Options{Store: memLedger{mem}, Namespaces: []string{"web"}, Reporters: []status.Reporter{accepting{}}})
	require.NoError(t, err)
	dctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go func() { _ = d.Run(dctx) }()
	parts := cutShort{applying: make(chan struct{}, 1)}
	cancel, ran := runCancellable(t, applyingC1(t, parts, ctxStore{mem}, d))
	await(t, parts.applying, "c1 applied")
	require.Eventually(t, func() bool {
		st := mem.get("web")
		return len(st.Owed) == 0 && meta.IsStatusConditionTrue(st.Conditions, version.ConditionReporting)
	}, 5*time.Second, 5*time.Millisecond, "the Applying report delivered")
	cancel()
	await(t, ran, "the Run ended")
	require.Equal(t, map[string]string{"kept": "k0", "created": ""}, hashes(mem))
}

// endingStore is ctxStore that ends the run's ctx in the first write it
// is given once armed, as when shutdown comes while that write is made.
type endingStore struct {
	ctxStore
	armed  atomic.Bool
	cancel atomic.Pointer[func()]
}

func (e *endingStore) UpdateStatus(ctx context.Context, ns string, fn func(*version.VersionStatus) error) (*version.Version, error) {
	if e.armed.Swap(false) {
		(*e.cancel.Load())()
	}
	return e.ctxStore.UpdateStatus(ctx, ns, fn)
}

// An apply that failed on its own, while the run's ctx was live, has its
// writes recorded though the ctx ends during that record's write: it is
// made again past the ctx's end. Before, it failed on the ended ctx.
func TestWhatAFailedApplyWroteIsRecordedThoughTheRunEndsMeanwhile(t *testing.T) {
	mem := &memStore{v: map[string]*version.Version{}}
	store := &endingStore{ctxStore: ctxStore{mem}}
	runFailedApplyEndingTheRun(t, mem, store, &store.armed, &store.cancel)
	require.Equal(t, map[string]string{"kept": "k0", "created": ""}, hashes(mem))
}

// endedAfterStore is ctxStore that, once armed, ends the run's ctx right
// after a write it let through, and counts the writes it lets through
// from then on.
type endedAfterStore struct {
	ctxStore
	armed  atomic.Bool
	cancel atomic.Pointer[func()]
	after  atomic.Int32
}

func (e *endedAfterStore) UpdateStatus(ctx context.Context, ns string, fn func(*version.VersionStatus) error) (*version.Version, error) {
	v, err := e.ctxStore.UpdateStatus(ctx, ns, fn)
	if err == nil && e.armed.Load() && e.after.Add(1) == 1 {
		(*e.cancel.Load())()
	}
	return v, err
}

// The record of what a failed apply wrote that landed before the run's
// ctx ended is not made again past the end: one write. Before, it was
// written a second time over itself.
func TestWhatAFailedApplyWroteIsRecordedOnceThoughTheRunEndsAfter(t *testing.T) {
	mem := &memStore{v: map[string]*version.Version{}}
	store := &endedAfterStore{ctxStore: ctxStore{mem}}
	runFailedApplyEndingTheRun(t, mem, store, &store.armed, &store.cancel)
	require.Equal(t, map[string]string{"kept": "k0", "created": ""}, hashes(mem))
	require.Equal(t, int32(1), store.after.Load(), "writes once the apply failed")
}

// runFailedApplyEndingTheRun runs c1 over mem (holding "kept") through
// store with an apply that creates "created" and fails; armed is set as it
// fails, for store to end the run through cancel. It returns once the
// Run ended.
func runFailedApplyEndingTheRun(t *testing.T, mem *memStore, store Store, armed *atomic.Bool, cancel *atomic.Pointer[func()]) {
	t.Helper()
	mem.v["web"] = &version.Version{Status: version.VersionStatus{Inventory: inventoryOf([]apply.Entry{entry("kept", "k0")})}}
	release := make(chan struct{})
	applying := make(chan struct{}, 1)
	failing := applyFunc(func(prev []apply.Entry) (*apply.Result, error) {
		applying <- struct{}{}
		<-release
		armed.Store(true)
		return &apply.Result{Inventory: append(prev, entry("created", "n1"))}, errors.New("the API server refused an object")
	})
	stop, ran := runCancellable(t, applyingC1(t, failing, store, nil))
	cancel.Store(&stop)
	await(t, applying, "c1 applied")
	close(release)
	await(t, ran, "the Run ended")
}

// vanishingStore is ctxStore whose writes, once gone is set, answer no
// Version and no error.
type vanishingStore struct {
	ctxStore
	gone atomic.Bool
}

func (v *vanishingStore) UpdateStatus(ctx context.Context, ns string, fn func(*version.VersionStatus) error) (*version.Version, error) {
	if v.gone.Load() {
		return nil, nil
	}
	return v.ctxStore.UpdateStatus(ctx, ns, fn)
}

// A record of what an apply cut short wrote that the store answers with no
// Version fails as any write does: the worker holds no Version it does not
// have. Before, it read the missing Version's status and panicked.
func TestWhatAnApplyCutShortWroteFindsNoVersion(t *testing.T) {
	mem := &memStore{v: map[string]*version.Version{}}
	store := &vanishingStore{ctxStore: ctxStore{mem}}
	parts := cutShort{applying: make(chan struct{}, 1)}
	cancel, ran := runCancellable(t, applyingC1(t, parts, store, nil))
	await(t, parts.applying, "c1 applied")
	store.gone.Store(true)
	cancel()
	await(t, ran, "the Run ended")
}

// applyingC1 is a syncer of namespace web that applies commit c1, objects
// kept and created, with applier, store and outbox (none when nil).
func applyingC1(t *testing.T, applier Applier, store Store, out *outbox.Deliverer) *Syncer {
	t.Helper()
	opts := Options{
		Cluster: "c", Namespaces: []string{"web"}, Source: oneCommit("c1"),
		Renderer: renderFunc(func() ([]*unstructured.Unstructured, error) {
			return []*unstructured.Unstructured{configMap("kept"), configMap("created")}, nil
		}),
		Applier: applier, Readiness: readyAtOnce{}, Store: store,
		Events: record.NewFakeRecorder(100), RetryInterval: 10 * time.Millisecond,
	}
	if out != nil {
		opts.Outbox = out
	}
	s, err := New(opts)
	require.NoError(t, err)
	return s
}

// hashes are the hashes of web's inventory, by object name.
func hashes(mem *memStore) map[string]string {
	got := map[string]string{}
	for _, e := range mem.get("web").Inventory {
		got[e.Name] = e.Hash
	}
	return got
}
