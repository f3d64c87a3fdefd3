package outbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/metricstest"
)

func TestDeliversInOrderAndClears(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web", "api")
	a, b := &sink{name: "s3", clock: fc}, &sink{name: "github", clock: fc}
	reg := prometheus.NewRegistry()
	l.record(t, "web", []string{"s3", "github"},
		status.Update{Cluster: "prod", SHA: shaA, State: status.Applying},
		status.Update{Cluster: "prod", SHA: shaB, State: status.Deployed, Deployments: []string{"web"}},
	)
	l.record(t, "api", []string{"github"}, status.Update{Cluster: "prod", SHA: shaA, State: status.Failed, Reason: "boom"})
	start(t, outbox.Options{Store: l, Namespaces: []string{"web", "api"}, Reporters: []status.Reporter{a, b}, Clock: fc, Metrics: reg})
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 && len(l.owed("api")) == 0 })

	var got []string
	for _, c := range b.got() {
		got = append(got, c.u.Namespace+" "+c.u.SHA[:7]+" "+string(c.u.State))
		require.Equal(t, "prod", c.u.Cluster)
	}
	require.Equal(t, []string{"web aaaaaaa applying", "web bbbbbbb deployed", "api aaaaaaa failed"}, got)
	require.Equal(t, 2, a.count())
	require.Equal(t, "boom", b.got()[2].u.Reason)
	require.Equal(t, []string{"web"}, a.got()[1].u.Deployments)
	require.Equal(t, 3.0, metric(t, reg, "syncgate_outbox_deliveries_total", "github"))
	require.Equal(t, 2.0, metric(t, reg, "syncgate_outbox_deliveries_total", "s3"))
	require.Equal(t, 0.0, metric(t, reg, "syncgate_outbox_owed_reports", "github"))
	c := l.status("web").Condition(version.ConditionReporting)
	require.NotNil(t, c)
	require.Equal(t, metav1.ConditionTrue, c.Status)
}

func TestTransientFailuresBackOff(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	s := &sink{name: "s3", clock: fc}
	s.then(errors.New("dial tcp: connection refused"), errors.New("dial tcp: connection refused"), errors.New("503 SlowDown"))
	l.record(t, "web", []string{"s3"}, status.Update{SHA: shaA, State: status.Deployed})
	bo := outbox.Backoff{Initial: time.Second, Max: 5 * time.Minute, Factor: 2, Jitter: 0.2}
	start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{s}, Clock: fc, Backoff: bo})

	for attempt, base := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		idle(t, fc, func() bool { return s.count() == attempt+1 }, "attempt %d", attempt+1)
		o := l.owed("web")
		require.Len(t, o, 1)
		require.Equal(t, int32(attempt+1), o[0].Attempts)
		require.NotEmpty(t, o[0].LastError)
		fc.Step(time.Duration(float64(base)*0.8) - time.Millisecond) // before the earliest the jitter allows
		idle(t, fc, func() bool { return s.count() == attempt+1 })
		fc.Step(time.Duration(float64(base)*0.4) + 2*time.Millisecond) // past the latest
	}
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
	require.Equal(t, 4, s.count())
	calls := s.got()
	for i, minGap := range []time.Duration{800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond} {
		gap := calls[i+1].at.Sub(calls[i].at)
		require.GreaterOrEqual(t, gap, minGap, "gap %d", i)
		require.LessOrEqual(t, gap, minGap*3/2+5*time.Millisecond, "gap %d", i)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	s := &sink{name: "github", clock: fc}
	s.then(status.RetryAfter(errors.New("429 Too Many Requests"), 90*time.Second))
	l.record(t, "web", []string{"github"}, status.Update{SHA: shaA, State: status.Applying})
	d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{s}, Clock: fc})
	idle(t, fc, func() bool { return s.count() == 1 })

	// New work for the same sink waits too: the sink asked for quiet.
	l.record(t, "web", []string{"github"}, status.Update{SHA: shaB, State: status.Applying})
	d.Kick()
	fc.Step(89 * time.Second)
	idle(t, fc, func() bool { return len(l.owed("web")) == 2 })
	require.Equal(t, 1, s.count(), "nothing sent before Retry-After")
	fc.Step(time.Second)
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
	calls := s.got()
	require.Len(t, calls, 3)
	require.Equal(t, 90*time.Second, calls[1].at.Sub(calls[0].at))
}

func TestPermanentRefusalIsShownOnceAndClearedByALaterSuccess(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	s := &sink{name: "github", clock: fc}
	s.then(status.Permanent(errors.New("GITHUB_TOKEN is not valid (GitHub answered 401 Bad credentials)")))
	l.record(t, "web", []string{"github"}, status.Update{SHA: shaA, State: status.Deployed})
	d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{s}, Clock: fc})

	idle(t, fc, func() bool {
		c := l.status("web").Condition(version.ConditionReporting)
		return c != nil && c.Status == metav1.ConditionFalse
	})
	c := l.status("web").Condition(version.ConditionReporting)
	require.Equal(t, "GithubRefused", c.Reason)
	require.Contains(t, c.Message, "GITHUB_TOKEN is not valid")
	require.Contains(t, c.Message, "aaaaaaa")
	o := l.owed("web")
	require.Len(t, o, 1)
	require.True(t, o[0].Permanent)
	for range 5 {
		d.Kick()
		fc.Step(10 * time.Minute)
	}
	idle(t, fc, func() bool { return true })
	require.Equal(t, 1, s.count(), "a refusal is not retried")

	// The sink accepts a later report: the refused one goes out too.
	l.record(t, "web", []string{"github"}, status.Update{SHA: shaB, State: status.Applying})
	d.Kick()
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
	require.Equal(t, 3, s.count())
	c = l.status("web").Condition(version.ConditionReporting)
	require.Equal(t, metav1.ConditionTrue, c.Status)
}

func TestRefusalsOfSeveralSinks(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	gh, s3 := &sink{name: "github", clock: fc}, &sink{name: "s3", clock: fc}
	gh.then(status.Permanent(errors.New("repository acme/config not found or token lacks repo:status")))
	s3.then(status.Permanent(errors.New("NoSuchBucket (check S3_BUCKET: the bucket does not exist)")))
	l.record(t, "web", []string{"github", "s3"}, status.Update{SHA: shaA, State: status.Deployed})
	start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{gh, s3}, Clock: fc})
	idle(t, fc, func() bool { return gh.count() == 1 && s3.count() == 1 })
	c := l.status("web").Condition(version.ConditionReporting)
	require.Equal(t, metav1.ConditionFalse, c.Status)
	require.Equal(t, "GithubRefused,S3Refused", c.Reason)
	require.Contains(t, c.Message, "token lacks repo:status")
	require.Contains(t, c.Message, "check S3_BUCKET")
}

func TestAReportReplacedWhileInFlightIsNotCleared(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	s := &sink{name: "github", clock: fc, block: make(chan struct{}), entered: make(chan struct{}, 10)}
	l.record(t, "web", []string{"github"}, status.Update{SHA: shaA, State: status.Applying})
	d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{s}, Clock: fc})
	<-s.entered // the applying report is being delivered
	l.record(t, "web", []string{"github"}, status.Update{SHA: shaA, State: status.Deployed})
	d.Kick() // as the syncer does after recording
	close(s.block)
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
	var got []status.State
	for _, c := range s.got() {
		got = append(got, c.u.State)
	}
	require.Equal(t, []status.State{status.Applying, status.Deployed}, got)
}

func TestAFreshDelivererPicksUpWhatADeadOneOwed(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	// The first process records "deployed" and dies while reporting it.
	hung := &sink{name: "github", clock: fc, block: make(chan struct{}), entered: make(chan struct{}, 1)}
	l.record(t, "web", []string{"github"}, status.Update{SHA: shaA, State: status.Deployed})
	d1, err := outbox.NewDeliverer(outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{hung}, Clock: fc})
	require.NoError(t, err)
	ctx, kill := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d1.Run(ctx) }()
	<-hung.entered
	kill()
	require.NoError(t, <-done)
	o := l.owed("web")
	require.Len(t, o, 1)
	require.Zero(t, o[0].Attempts, "being killed is not the sink's failure")

	s := &sink{name: "github", clock: fc}
	start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{s}, Clock: fc})
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
	require.Equal(t, 1, s.count())
	require.Equal(t, status.Deployed, s.got()[0].u.State)
}

func TestReportsForAnUnconfiguredSinkStay(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	s := &sink{name: "s3", clock: fc}
	l.record(t, "web", []string{"gitlab", "s3"}, status.Update{SHA: shaA, State: status.Deployed})
	start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{s}, Clock: fc})
	idle(t, fc, func() bool { return s.count() == 1 })
	require.Equal(t, []owedRow{{"gitlab", shaA, status.Deployed, false}}, rows(l.owed("web")))
}

func TestNewDelivererChecksOptions(t *testing.T) {
	_, err := outbox.NewDeliverer(outbox.Options{})
	require.Error(t, err)
	fc := testingclock.NewFakeClock(t0)
	_, err = outbox.NewDeliverer(outbox.Options{Store: newLedger(), Reporters: []status.Reporter{&sink{name: "s3", clock: fc}, &sink{name: "s3", clock: fc}}})
	require.ErrorContains(t, err, `two reporters named "s3"`)
	d, err := outbox.NewDeliverer(outbox.Options{Store: newLedger(), Reporters: []status.Reporter{&sink{name: "s3", clock: fc}, nil, &sink{name: "github", clock: fc}}})
	require.NoError(t, err)
	require.Equal(t, []string{"s3", "github"}, d.Sinks())
}

func TestBackoffDelay(t *testing.T) {
	b := outbox.Backoff{Initial: time.Second, Max: 5 * time.Minute, Factor: 2, Jitter: 0.2}
	for _, tc := range []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{0, 0.5, time.Second},
		{0, 0, 800 * time.Millisecond},
		{0, 1, 1200 * time.Millisecond},
		{3, 0.5, 8 * time.Second},
		{8, 0.5, 256 * time.Second},
		{9, 0.5, 5 * time.Minute},
		{9, 0, 4 * time.Minute},
		{40, 1, 5 * time.Minute},
	} {
		require.Equal(t, tc.want, b.Delay(tc.n, tc.r), "n=%d r=%v", tc.n, tc.r)
	}
}

// metric is the value of the named counter or gauge with the given sink label.
func metric(t *testing.T, reg *prometheus.Registry, name, sink string) float64 {
	t.Helper()
	m, ok := metricstest.Find(t, reg, name, "sink", sink)
	if !ok {
		t.Fatalf("no metric %s{sink=%q}", name, sink)
	}
	return metricstest.Value(m)
}

// The whole reason of a report whose recorded reason was cut is delivered
// by the process that recorded it; after a restart, the recorded one is.
func TestWholeReasonFromTheProcessThatRecordedIt(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	s := &sink{name: "s3", clock: fc}
	d, err := outbox.NewDeliverer(outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{s}, Clock: fc})
	require.NoError(t, err)
	require.NoError(t, l.Update(context.Background(), "web", func(st *version.VersionStatus) error {
		d.Record(st, status.Update{Namespace: "web", SHA: shaA, State: status.Failed, Reason: "dry run refused… (truncated)", Detail: "dry run refused 900 objects: the whole list"})
		d.Record(st, status.Update{Namespace: "web", SHA: shaB, State: status.Failed, Reason: "short"})
		return nil
	}))
	run(t, d)
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
	got := map[string]string{}
	for _, c := range s.got() {
		got[c.u.SHA] = c.u.Reason
	}
	require.Equal(t, map[string]string{shaA: "dry run refused 900 objects: the whole list", shaB: "short"}, got)
}

// A final report the sink refused, then a later state of the same commit
// (a rollback applies it again): once the later state is delivered, the
// refused one is dropped, never delivered after it.
func TestALaterStateDeliveredSupersedesARefusedFinalReport(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	s := &sink{name: "github", clock: fc}
	s.then(status.Permanent(errors.New("422 No commit found for SHA")))
	l.record(t, "web", []string{"github"}, status.Update{SHA: shaA, State: status.Deployed})
	require.NoError(t, l.Update(context.Background(), "web", func(st *version.VersionStatus) error {
		st.Owed[0].Permanent = true // refused by an earlier process
		return nil
	}))
	l.record(t, "web", []string{"github"}, status.Update{SHA: shaA, State: status.Applying})
	require.Equal(t, []owedRow{{"github", shaA, status.Deployed, true}, {"github", shaA, status.Applying, false}}, rows(l.owed("web")))

	d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{s}, Clock: fc})
	idle(t, fc, func() bool { return s.count() == 1 }, "the refused report is tried once by this process")
	d.Kick()
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
	fc.Step(10 * time.Minute)
	idle(t, fc, func() bool { return true })

	var got []status.State
	for _, c := range s.got() {
		got = append(got, c.u.State)
	}
	require.Equal(t, []status.State{status.Deployed, status.Applying}, got, "nothing of the commit after its latest state")
}
