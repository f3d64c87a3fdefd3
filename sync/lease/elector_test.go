package lease_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/sync/lease"
	"github.com/syncgate/syncgate/testing/chans"
	"github.com/syncgate/syncgate/testing/cluster"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{Nodes: 1})) }

const name = "syncgate-leader"

// Timings short enough for tests, long enough for a loaded machine.
const (
	duration = 4 * time.Second
	deadline = 2 * time.Second
	retry    = 200 * time.Millisecond
)

// candidate is one Elector running terms, with what its work saw.
type candidate struct {
	id      string
	elector *lease.Elector
	started chan time.Time // each term's work started
	ended   chan time.Time // each term's work told to stop
	done    chan struct{}  // closed once Run returned
	led     bool           // what Run returned
	cancel  context.CancelFunc
}

// start runs one term of a candidate over client.
func start(t *testing.T, client *lease.Client, id string, cfg func(*lease.Config)) *candidate {
	t.Helper()
	c := lease.Config{Client: client, Name: name, Identity: id, Duration: duration, RenewDeadline: deadline, RetryPeriod: retry}
	if cfg != nil {
		cfg(&c)
	}
	e, err := lease.New(c)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cd := &candidate{id: id, elector: e, started: make(chan time.Time, 1), ended: make(chan time.Time, 1), done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(cd.done)
		cd.led = e.Run(ctx, func(ctx context.Context) {
			cd.started <- time.Now()
			<-ctx.Done()
			cd.ended <- time.Now()
		})
	}()
	t.Cleanup(func() {
		cancel()
		cd.wait(t)
	})
	return cd
}

// wait returns what Run returned, once it has.
func (cd *candidate) wait(t *testing.T) bool {
	t.Helper()
	select {
	case <-cd.done:
		return cd.led
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s's Run to return", cd.id)
	}
	panic("unreachable")
}

func newClient(t *testing.T, rc *rest.Config, ns string) *lease.Client {
	t.Helper()
	dyn, err := dynamic.NewForConfig(rc)
	require.NoError(t, err)
	return lease.NewClient(dyn, ns)
}

func TestOneOfTwoCandidatesLeads(t *testing.T) {
	c := cluster.Shared(t)
	client := newClient(t, c.RESTConfig(), cluster.Namespace(t, c))
	a := start(t, client, "a", nil)
	b := start(t, client, "b", nil)

	var leader, other *candidate
	select {
	case <-a.started:
		leader, other = a, b
	case <-b.started:
		leader, other = b, a
	case <-time.After(30 * time.Second):
		t.Fatal("nobody leads")
	}
	l := renewals(t, client, 5) // the leader renews; the other tries all along
	require.Equal(t, leader.id, lease.Holder(l))
	require.Empty(t, other.started, "the other candidate leads too")
	require.Equal(t, int32(0), *l.Spec.LeaseTransitions)
}

// A leader that stops gives the Lease up once its work returned: the other
// candidate leads at once, not after the Lease's duration.
func TestReleaseHandsOverAtOnce(t *testing.T) {
	c := cluster.Shared(t)
	client := newClient(t, c.RESTConfig(), cluster.Namespace(t, c))
	a := start(t, client, "a", func(cfg *lease.Config) { cfg.Duration = time.Minute })
	chans.Recv(t, a.started, "a to lead")
	b := start(t, client, "b", func(cfg *lease.Config) { cfg.Duration = time.Minute })
	renewals(t, client, 2) // b has seen a hold it

	a.cancel()
	stopped := chans.Recv(t, a.ended, "a's work told to stop")
	require.True(t, a.wait(t), "a led")
	took := chans.Recv(t, b.started, "b to lead")
	require.Less(t, took.Sub(stopped), 10*time.Second, "b waited for the Lease to lapse")
	l, err := client.Get(context.Background(), name)
	require.NoError(t, err)
	require.Equal(t, "b", lease.Holder(l))
	require.Equal(t, int32(1), *l.Spec.LeaseTransitions)
}

// A Lease written under its leader (another holder now) stops the leader's
// work at its next renewal, and it does not give up what is not its own.
func TestLeaseTakenUnderTheLeaderStopsIt(t *testing.T) {
	c := cluster.Shared(t)
	client := newClient(t, c.RESTConfig(), cluster.Namespace(t, c))
	a := start(t, client, "a", nil)
	chans.Recv(t, a.started, "a to lead")

	ctx := context.Background()
	l, err := client.Get(ctx, name)
	require.NoError(t, err)
	intruder := "intruder"
	l.Spec.HolderIdentity = &intruder
	_, err = client.Update(ctx, l)
	require.NoError(t, err)
	taken := time.Now()

	stopped := chans.Recv(t, a.ended, "a's work told to stop")
	require.Less(t, stopped.Sub(taken), deadline, "a went on leading past the renew deadline")
	require.True(t, a.wait(t))
	l, err = client.Get(ctx, name)
	require.NoError(t, err)
	require.Equal(t, "intruder", lease.Holder(l), "a released a Lease it no longer held")
}

// A leader whose renewals the server refuses stops within the renew
// deadline; the Lease, not given up, lapses and a standby takes it.
func TestRefusedRenewalsStopTheLeader(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	var refuse atomic.Bool
	rc := c.RESTConfig()
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return refusing{rt: rt, on: &refuse}
	})
	a := start(t, newClient(t, rc, ns), "a", nil)
	chans.Recv(t, a.started, "a to lead")
	client := newClient(t, c.RESTConfig(), ns)
	b := start(t, client, "b", nil)

	refuse.Store(true)
	cut := time.Now()
	stopped := chans.Recv(t, a.ended, "a's work told to stop")
	require.Less(t, stopped.Sub(cut), deadline+500*time.Millisecond, "a went on leading past the renew deadline")
	took := chans.Recv(t, b.started, "b to lead once the Lease lapsed")
	require.True(t, took.After(stopped), "b led %v before a stopped", stopped.Sub(took))
	require.GreaterOrEqual(t, took.Sub(cut), duration-deadline, "b took a Lease that had not lapsed")
}

// A holder that died without giving the Lease up is taken over once the
// Lease went unrenewed for its duration, as the candidate times it: the
// times the holder wrote, by a clock that may be wrong, count for nothing.
func TestCrashedHolderTakenOverAfterTheDuration(t *testing.T) {
	c := cluster.Shared(t)
	for _, tc := range []struct {
		name    string
		renewed time.Duration // the dead holder's renewTime, from now
	}{{"renewed an hour ago by its clock", -time.Hour}, {"renewed an hour ahead by its clock", time.Hour}} {
		t.Run(tc.name, func(t *testing.T) {
			client := newClient(t, c.RESTConfig(), cluster.Namespace(t, c))
			dead, secs := "dead", int32(duration/time.Second)
			at := metav1.NewMicroTime(time.Now().Add(tc.renewed))
			_, err := client.Create(context.Background(), &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: &dead, LeaseDurationSeconds: &secs, RenewTime: &at, AcquireTime: &at}})
			require.NoError(t, err)

			began := time.Now()
			b := start(t, client, "b", nil)
			took := chans.Recv(t, b.started, "b to take the dead holder's Lease")
			require.GreaterOrEqual(t, took.Sub(began), duration, "taken before it lapsed")
			l, err := client.Get(context.Background(), name)
			require.NoError(t, err)
			require.Equal(t, "b", lease.Holder(l))
		})
	}
}

// A candidate that may not take the Lease leaves it; once it holds the
// Lease, it renews it whatever it is told.
func TestMayGatesTakingNotRenewing(t *testing.T) {
	c := cluster.Shared(t)
	client := newClient(t, c.RESTConfig(), cluster.Namespace(t, c))
	var may atomic.Bool
	asked := make(chan struct{}, 64)
	a := start(t, client, "a", func(cfg *lease.Config) {
		cfg.May = func() bool {
			chans.Offer(asked, struct{}{})
			return may.Load()
		}
	})
	for range 3 {
		chans.Recv(t, asked, "a to ask whether it may")
	}
	_, err := client.Get(context.Background(), name)
	require.True(t, apierrors.IsNotFound(err), "a took the Lease it may not: %v", err)

	may.Store(true)
	chans.Recv(t, a.started, "a to lead once it may")
	may.Store(false)
	l := renewals(t, client, 5)
	require.Equal(t, "a", lease.Holder(l))
	require.Empty(t, a.ended, "a stopped leading when it may no longer take the Lease")
}

// On shutdown the leader keeps the Lease, renewed past the renew deadline,
// until its work has returned; only then is it given up.
func TestShutdownKeepsTheLeaseUntilTheWorkReturned(t *testing.T) {
	c := cluster.Shared(t)
	client := newClient(t, c.RESTConfig(), cluster.Namespace(t, c))
	e, err := lease.New(lease.Config{Client: client, Name: name, Identity: "a", Duration: duration, RenewDeadline: deadline, RetryPeriod: retry})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	started, stopping, hold := make(chan struct{}), make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx, func(ctx context.Context) {
			close(started)
			<-ctx.Done()
			close(stopping)
			<-hold // an apply in flight
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	chans.Recv(t, started, "a to lead")

	cancel()
	chans.Recv(t, stopping, "the work told to stop")
	stopped := time.Now()
	l := renewals(t, client, 3)
	for time.Since(stopped) <= deadline {
		l = renewals(t, client, 1)
	}
	require.Equal(t, "a", lease.Holder(l), "the Lease given up while the work still ran")
	close(hold)
	chans.Recv(t, done, "Run to return once the work returned")
	l, err = client.Get(context.Background(), name)
	require.NoError(t, err)
	require.Empty(t, lease.Holder(l), "the Lease not given up once the work returned")
}

// renewals waits for n more writes of the Lease and returns it.
func renewals(t *testing.T, client *lease.Client, n int) *coordinationv1.Lease {
	t.Helper()
	var last *coordinationv1.Lease
	seen := 0
	require.Eventually(t, func() bool {
		l, err := client.Get(context.Background(), name)
		if err != nil {
			return false
		}
		if last != nil && l.ResourceVersion != last.ResourceVersion {
			seen++
		}
		last = l
		return seen >= n
	}, 30*time.Second, retry/4)
	return last
}

// refusing fails every request while on, as a partitioned replica sees.
type refusing struct {
	rt http.RoundTripper
	on *atomic.Bool
}

func (r refusing) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.on.Load() {
		return nil, errors.New("connection refused")
	}
	return r.rt.RoundTrip(req)
}
