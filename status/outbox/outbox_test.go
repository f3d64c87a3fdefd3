package outbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/s3marker"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/s3server"
)

// ledger keeps Versions in memory, as the API server would.
type ledger struct {
	mu sync.Mutex
	v  map[string]*version.Version
}

func newLedger(nss ...string) *ledger {
	l := &ledger{v: map[string]*version.Version{}}
	for _, ns := range nss {
		l.v[ns] = &version.Version{Spec: version.VersionSpec{Cluster: "prod"}}
	}
	return l
}

func (l *ledger) Get(_ context.Context, ns string) (*version.Version, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.v[ns].DeepCopy(), nil
}

func (l *ledger) UpdateStatus(_ context.Context, ns string, fn func(*version.VersionStatus) error) (*version.Version, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v := l.v[ns].DeepCopy()
	if err := fn(&v.Status); err != nil {
		return nil, err
	}
	l.v[ns] = v
	return v.DeepCopy(), nil
}

func (l *ledger) owed(ns string) []version.OwedReport {
	v, _ := l.Get(context.Background(), ns)
	return v.Status.Owed
}

// counting counts calls and can refuse them.
type counting struct {
	mu    sync.Mutex
	calls []status.Update
	fail  error
}

func (c *counting) Name() string { return "forge" }
func (c *counting) Report(_ context.Context, u status.Update) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, u)
	return c.fail
}
func (c *counting) count() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.calls) }

const sha = "0123456789abcdef0123456789abcdef01234567"

func TestOwedReportsSurviveAnS3Outage(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the S3 server")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := s3server.Start(ctx, s3server.Options{})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	require.NoError(t, srv.CreateBucket(ctx, "markers"))
	s3r, err := s3marker.New(srv.Client(), s3marker.Options{Bucket: "markers"})
	require.NoError(t, err)

	l := newLedger("web")
	d, err := outbox.New(outbox.Options{Ledger: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{s3r},
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	require.NoError(t, err)

	srv.Stop() // S3 goes down while a deployment finishes
	finished := time.Date(2026, 5, 1, 10, 0, 42, 0, time.UTC)
	_, err = l.UpdateStatus(ctx, "web", func(st *version.VersionStatus) error {
		d.Record(st, status.Update{Cluster: "prod", Namespace: "web", SHA: sha, State: status.RollingOut})
		d.Record(st, status.Update{Cluster: "prod", Namespace: "web", SHA: sha, State: status.Deployed, FinishedAt: finished, Deployments: []string{"web"}})
		return nil
	})
	require.NoError(t, err)
	require.Len(t, l.owed("web"), 1, "the pending report was replaced by the final one")

	go func() { _ = d.Run(ctx) }()
	require.Eventually(t, func() bool {
		o := l.owed("web")
		return len(o) == 1 && o[0].Attempts >= 2
	}, 10*time.Second, 10*time.Millisecond, "retried while S3 is down")

	require.NoError(t, srv.Restart(ctx))
	d.Kick()
	require.Eventually(t, func() bool { return len(l.owed("web")) == 0 }, 10*time.Second, 10*time.Millisecond)
	b, err := s3marker.Read(ctx, srv.Client(), "markers", "prod/web/web/0123456")
	require.NoError(t, err)
	require.Equal(t, "2026-05-01T10:00:42Z", string(b))

	// A restart that replays the same report writes nothing different.
	out, err := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("markers")})
	require.NoError(t, err)
	before := map[string]string{}
	for _, o := range out.Contents {
		before[*o.Key] = *o.ETag
	}
	require.Len(t, before, 3)
	require.NoError(t, s3r.Report(ctx, status.Update{Cluster: "prod", Namespace: "web", SHA: sha, State: status.Deployed, FinishedAt: finished, Deployments: []string{"web"}}))
	out, err = srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("markers")})
	require.NoError(t, err)
	for _, o := range out.Contents {
		require.Equal(t, before[*o.Key], *o.ETag, *o.Key)
	}
}

func TestPermanentRefusalIsReportedOnceNotHammered(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &counting{fail: status.Permanent(errors.New("401 Bad credentials: GITHUB_TOKEN is not valid"))}
	l := newLedger("web")
	d, err := outbox.New(outbox.Options{Ledger: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{sink}, MinBackoff: time.Millisecond})
	require.NoError(t, err)
	_, err = l.UpdateStatus(ctx, "web", func(st *version.VersionStatus) error {
		d.Record(st, status.Update{SHA: sha, State: status.Applying})
		return nil
	})
	require.NoError(t, err)
	go func() { _ = d.Run(ctx) }()
	require.Eventually(t, func() bool {
		v, _ := l.Get(ctx, "web")
		c := meta.FindStatusCondition(v.Status.Conditions, version.ConditionReporting)
		return c != nil && c.Reason == "SinkRefused"
	}, 5*time.Second, 5*time.Millisecond)
	for i := 0; i < 5; i++ {
		d.Kick()
	}
	require.Never(t, func() bool { return sink.count() > 1 }, 200*time.Millisecond, 10*time.Millisecond)
	v, _ := l.Get(ctx, "web")
	require.Contains(t, meta.FindStatusCondition(v.Status.Conditions, version.ConditionReporting).Message, "GITHUB_TOKEN is not valid")
}

func TestRetryAfterIsHonoured(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &counting{fail: status.RetryAfter(errors.New("429 Too Many Requests"), time.Hour)}
	l := newLedger("web")
	d, err := outbox.New(outbox.Options{Ledger: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{sink}, MinBackoff: time.Millisecond})
	require.NoError(t, err)
	_, _ = l.UpdateStatus(ctx, "web", func(st *version.VersionStatus) error {
		d.Record(st, status.Update{SHA: sha, State: status.Applying})
		return nil
	})
	go func() { _ = d.Run(ctx) }()
	require.Eventually(t, func() bool { return sink.count() == 1 }, 5*time.Second, 5*time.Millisecond)
	d.Kick()
	require.Never(t, func() bool { return sink.count() > 1 }, 200*time.Millisecond, 10*time.Millisecond, "waits for Retry-After")
}

// A process killed after recording "deployed" and before reporting it: a new
// process's deliverer, reading the same ledger, delivers it once.
func TestOwedReportSurvivesTheProcess(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := newLedger("web")
	first := &counting{}
	d1, err := outbox.New(outbox.Options{Ledger: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{first}})
	require.NoError(t, err)
	_, err = l.UpdateStatus(ctx, "web", func(st *version.VersionStatus) error {
		d1.Record(st, status.Update{SHA: sha, State: status.Deployed, Deployments: []string{"web"}})
		return nil
	})
	require.NoError(t, err)
	// d1 never runs: the process died here.

	second := &counting{}
	d2, err := outbox.New(outbox.Options{Ledger: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{second}})
	require.NoError(t, err)
	go func() { _ = d2.Run(ctx) }()
	require.Eventually(t, func() bool { return len(l.owed("web")) == 0 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, 1, second.count())
	require.Equal(t, status.Deployed, second.calls[0].State)
	require.Equal(t, 0, first.count())
}
