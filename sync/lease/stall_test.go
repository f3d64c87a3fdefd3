package lease_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/sync/lease"
	"github.com/syncgate/syncgate/testing/chans"
	"github.com/syncgate/syncgate/testing/cluster"
)

// A candidate whose read of the Lease waited long in the API server's
// queue times the Lease from when the read returned, not from when it was
// sent: it does not take the Lease while its holder still leads.
func TestSlowReadDoesNotTakeTheLeaseFromItsLeader(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	client := newClient(t, c.RESTConfig(), ns)
	var refuse atomic.Bool
	rc := c.RESTConfig()
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return refusing{rt: rt, on: &refuse} })
	a := start(t, newClient(t, rc, ns), "a", nil)
	chans.Recv(t, a.started, "a to lead")

	s := &stalling{method: http.MethodGet, held: make(chan time.Time, 1), release: make(chan struct{})}
	bc := c.RESTConfig()
	bc.Wrap(s.wrap)
	b := start(t, newClient(t, bc, ns), "b", func(cfg *lease.Config) {
		cfg.Duration, cfg.RenewDeadline = 20*time.Second, 10*time.Second // its reads wait up to 10 s
	})
	renewals(t, client, 2) // b has seen a hold it
	s.on.Store(true)
	heldAt := chans.Recv(t, s.held, "b's read to be held")
	// The read waits longer than the Lease's duration less a's renew
	// deadline while a renews on; then a's renewals fail as b's read is
	// answered.
	for time.Since(heldAt) <= duration {
		renewals(t, client, 1)
	}
	refuse.Store(true)
	close(s.release)

	stopped := chans.Recv(t, a.ended, "a's work told to stop")
	took := chans.Recv(t, b.started, "b to lead once the Lease lapsed")
	require.True(t, took.After(stopped), "b took the Lease %v before a stopped leading", stopped.Sub(took))
}

// When the process is told to stop while a renewal hangs, the work is told
// to stop at once, not once the renewal gave up.
func TestStopSeenWhileARenewalHangs(t *testing.T) {
	c := cluster.Shared(t)
	s := &stalling{method: http.MethodPut, held: make(chan time.Time, 1), release: make(chan struct{})}
	rc := c.RESTConfig()
	rc.Wrap(s.wrap)
	a := start(t, newClient(t, rc, cluster.Namespace(t, c)), "a", func(cfg *lease.Config) {
		cfg.Duration, cfg.RenewDeadline = 20*time.Second, 10*time.Second
	})
	chans.Recv(t, a.started, "a to lead")
	s.on.Store(true)
	chans.Recv(t, s.held, "a renewal to hang")

	a.cancel()
	canceled := time.Now()
	stopped := chans.Recv(t, a.ended, "a's work told to stop")
	close(s.release)
	require.Less(t, stopped.Sub(canceled), deadline, "the work told to stop only once the renewal gave up")
}

// A Lease deleted under its leader is lost at once: a candidate creates it
// anew without waiting.
func TestLeaseDeletedUnderTheLeaderStopsIt(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	a := start(t, newClient(t, c.RESTConfig(), ns), "a", func(cfg *lease.Config) {
		cfg.Duration, cfg.RenewDeadline = 20*time.Second, 10*time.Second
	})
	chans.Recv(t, a.started, "a to lead")

	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	require.NoError(t, dyn.Resource(lease.Resource).Namespace(ns).Delete(context.Background(), name, metav1.DeleteOptions{}))
	deleted := time.Now()

	stopped := chans.Recv(t, a.ended, "a's work told to stop")
	require.Less(t, stopped.Sub(deleted), deadline, "a went on leading a deleted Lease")
	require.True(t, a.wait(t))
}

func TestNewRefusesADurationNotInWholeSeconds(t *testing.T) {
	_, err := lease.New(lease.Config{Client: &lease.Client{}, Name: name, Identity: "a",
		Duration: 4500 * time.Millisecond, RenewDeadline: deadline, RetryPeriod: retry})
	require.ErrorContains(t, err, "whole seconds")
}

// stalling holds the first request of method sent once on, until released
// or its context ends, as an API server's queue would.
type stalling struct {
	method  string
	on      atomic.Bool
	held    chan time.Time
	release chan struct{}
}

func (s *stalling) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTrip(func(r *http.Request) (*http.Response, error) {
		if r.Method == s.method && s.on.CompareAndSwap(true, false) {
			s.held <- time.Now()
			select {
			case <-s.release:
			case <-r.Context().Done():
				return nil, r.Context().Err()
			}
		}
		return rt.RoundTrip(r)
	})
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
