package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/syncgate/syncgate/sync/lease"
	"github.com/syncgate/syncgate/testing/chans"
)

// leaseAPI is a fake API server holding the Lease, with switches to make it
// refuse writes and a record of what it is asked. The elector itself is
// tested against a real API server (sync/lease); these tests are about the
// terms and the work.
type leaseAPI struct {
	client       *lease.Client
	failWrites   atomic.Bool // every update, releases too
	failRenewals atomic.Bool // updates that name a holder
	watching     atomic.Bool
	calls        chan string   // lease verbs, once watching
	renewed      chan struct{} // a write that names a holder
	released     chan struct{} // a write that leaves the lease without a holder
	logged       chan string   // the leader's log messages
}

func newLeaseAPI(t *testing.T) *leaseAPI {
	t.Helper()
	dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
	api := &leaseAPI{
		client:   lease.NewClient(dyn, "syncgate"),
		calls:    make(chan string, 64),
		renewed:  make(chan struct{}, 1),
		released: make(chan struct{}, 1),
		logged:   make(chan string, 256),
	}
	dyn.PrependReactor("*", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if api.watching.Load() {
			chans.Offer(api.calls, a.GetVerb())
		}
		u, ok := a.(k8stesting.UpdateAction)
		if !ok {
			return false, nil, nil
		}
		l, ok := u.GetObject().(*unstructured.Unstructured)
		if !ok {
			return false, nil, nil
		}
		if api.failWrites.Load() {
			return true, nil, errors.New("etcdserver: request timed out")
		}
		if holder, _, _ := unstructured.NestedString(l.Object, "spec", "holderIdentity"); holder == "" {
			chans.Offer(api.released, struct{}{})
		} else if api.failRenewals.Load() {
			return true, nil, errors.New("etcdserver: request timed out")
		} else {
			chans.Offer(api.renewed, struct{}{})
		}
		return false, nil, nil
	})
	return api
}

// leader has short timings so that a lost lease is noticed in under a second.
func (api *leaseAPI) leader(t *testing.T, work func(context.Context) error) *leader {
	t.Helper()
	return api.leaderWith(t, work, time.Second, 400*time.Millisecond)
}

func (api *leaseAPI) leaderWith(t *testing.T, work func(context.Context) error, duration, deadline time.Duration) *leader {
	t.Helper()
	log := slog.New(msgHandler{api.logged})
	e, err := lease.New(lease.Config{Client: api.client, Name: "syncgate-leader", Identity: "replica-a",
		Duration: duration, RenewDeadline: deadline, RetryPeriod: 100 * time.Millisecond, Logger: log})
	require.NoError(t, err)
	return &leader{elector: e, id: "replica-a", work: work, log: log, retryPeriod: 100 * time.Millisecond}
}

// start runs l until the returned cancel is called or the test ends;
// returned is closed once run returned.
func start(t *testing.T, l *leader) (cancel func(), returned <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return cancel, done
}

// untilWaiting returns once the leader says it waits for its work to stop.
// The lease released, or asked for while watching, before that fails the
// test: the work is held, so it has not returned yet.
func (api *leaseAPI) untilWaiting(t *testing.T) {
	t.Helper()
	for {
		select {
		case m := <-api.logged:
			if m == logWaitingForWork {
				return
			}
		case verb := <-api.calls:
			t.Fatalf("lease %s while the last term's work still ran", verb)
		case <-api.released:
			t.Fatal("lease released while the term's work still ran")
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out waiting for the log %q", logWaitingForWork)
		}
	}
}

// heldWork is a term's work that, told to stop, returns only once released,
// as an apply in flight would.
type heldWork struct {
	starts, stopping chan struct{}
	hold             chan struct{}
	release          func()
}

func newHeldWork() *heldWork {
	w := &heldWork{starts: make(chan struct{}, 1), stopping: make(chan struct{}, 1), hold: make(chan struct{})}
	w.release = sync.OnceFunc(func() { close(w.hold) })
	return w
}

func (w *heldWork) run(ctx context.Context) error {
	w.starts <- struct{}{}
	<-ctx.Done()
	w.stopping <- struct{}{}
	<-w.hold
	return nil
}

func TestLeaderNewTermWaitsForTheLastTermsWork(t *testing.T) {
	api := newLeaseAPI(t)
	starts, stopping := make(chan int32, 4), make(chan int32, 4)
	hold := make(chan struct{})
	unhold := sync.OnceFunc(func() { close(hold) })
	var terms, running atomic.Int32
	work := func(ctx context.Context) error {
		n := terms.Add(1)
		if r := running.Add(1); r > 1 {
			t.Errorf("term %d's work started while %d other term(s) still working", n, r-1)
		}
		defer running.Add(-1)
		starts <- n
		<-ctx.Done()
		stopping <- n
		if n == 1 {
			<-hold // an apply in flight: the first term is slow to stop
		}
		return nil
	}
	start(t, api.leader(t, work))
	t.Cleanup(unhold)

	require.Equal(t, int32(1), chans.Recv(t, starts, "the first term"))
	api.failWrites.Store(true) // the lease is lost, and cannot be released
	require.Equal(t, int32(1), chans.Recv(t, stopping, "the first term told to stop"))
	api.watching.Store(true)
	api.failWrites.Store(false) // the API server is back while the work still stops
	api.untilWaiting(t)

	unhold()
	require.Equal(t, int32(2), chans.Recv(t, starts, "a second term once the first one's work returned"))
}

func TestLeaderLostLeaseIsReleasedAfterTheWork(t *testing.T) {
	api := newLeaseAPI(t)
	w := newHeldWork()
	start(t, api.leaderWith(t, w.run, 3*time.Second, 2*time.Second))
	t.Cleanup(w.release) // before start's clean-up, which waits for the work

	chans.Recv(t, w.starts, "the term")
	api.failRenewals.Store(true) // renewals time out, the release gets through
	chans.Recv(t, w.stopping, "the work told to stop")
	api.untilWaiting(t)

	w.release()
	chans.Recv(t, api.released, "the lease released after the work returned")
}

func TestLeaderWorkThatEndsGivesTheLeaseUp(t *testing.T) {
	api := newLeaseAPI(t)
	starts := make(chan int32, 4)
	var terms atomic.Int32
	work := func(ctx context.Context) error {
		n := terms.Add(1)
		starts <- n
		if n == 1 {
			return errors.New("outbox: Run called twice")
		}
		<-ctx.Done()
		return nil
	}
	start(t, api.leader(t, work))

	require.Equal(t, int32(1), chans.Recv(t, starts, "the first term"))
	chans.Recv(t, api.released, "the lease given up after the work ended")
	require.Equal(t, int32(2), chans.Recv(t, starts, "a second term"))
}

func TestLeaderShutdownReleasesTheLeaseAfterTheWork(t *testing.T) {
	api := newLeaseAPI(t)
	w := newHeldWork()
	cancel, returned := start(t, api.leader(t, w.run))
	t.Cleanup(w.release) // before start's clean-up, which waits for the work

	chans.Recv(t, w.starts, "the term")
	cancel()
	chans.Recv(t, w.stopping, "the work told to stop")
	for range 6 { // past the renew deadline: the work that stops still leads
		chans.Recv(t, api.renewed, "the lease renewed while the work stops")
	}
	require.Empty(t, api.released, "the lease released while the work still ran")

	w.release()
	chans.Recv(t, api.released, "the lease released after the work returned")
	chans.Recv(t, returned, "run to return")
}

// msgHandler passes each log message on, dropping them when nobody reads.
type msgHandler struct{ msgs chan<- string }

func (h msgHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h msgHandler) Handle(_ context.Context, r slog.Record) error {
	chans.Offer(h.msgs, r.Message)
	return nil
}
func (h msgHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h msgHandler) WithGroup(string) slog.Handler      { return h }
