package outbox_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/status/gitlabstatus"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/s3marker"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/s3server"
)

// puts passes S3 calls through, remembers every body written per key, and
// can run a hook after a successful put.
type puts struct {
	s3marker.API
	mu     sync.Mutex
	bodies map[string][]string
	after  func(key string)
}

func (p *puts) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	cp := *in
	cp.Body = bytesReader(b)
	out, err := p.API.PutObject(ctx, &cp, opts...)
	if err != nil {
		return out, err
	}
	p.mu.Lock()
	p.bodies[*in.Key] = append(p.bodies[*in.Key], string(b))
	hook := p.after
	p.mu.Unlock()
	if hook != nil {
		hook(*in.Key)
	}
	return out, nil
}

// startBucket starts the S3 server with an empty bucket "markers".
func startBucket(t *testing.T) *s3server.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the S3 server (not in -short mode)")
	}
	srv, err := s3server.Start(context.Background(), s3server.Options{})
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	require.NoError(t, srv.CreateBucket(context.Background(), "markers"))
	return srv
}

func TestOwedReportsSurviveAnS3Outage(t *testing.T) {
	ctx := context.Background()
	srv := startBucket(t)
	rec := &puts{API: srv.Client(), bodies: map[string][]string{}}
	// S3 goes away right after the first marker is written: the commit is
	// half reported when the outage starts.
	var once sync.Once
	rec.after = func(string) { once.Do(srv.Stop) }
	s3r, err := s3marker.New(rec, s3marker.Options{Bucket: "markers", Prefix: "ci", Cluster: "prod"})
	require.NoError(t, err)

	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web", "api")
	applied, finished := t0.Add(-time.Minute), t0.Add(-18*time.Second)
	l.record(t, "web", []string{"s3"},
		status.Update{SHA: shaA, State: status.RollingOut, Ready: 1, Total: 2},
		status.Update{SHA: shaA, State: status.Deployed, AppliedAt: applied, FinishedAt: finished, Deployments: []string{"web", "worker"}},
		status.Update{SHA: shaB, State: status.Failed, Reason: "health timeout", AppliedAt: applied, FinishedAt: finished, Deployments: []string{"web"}},
	)
	l.record(t, "api", []string{"s3"},
		status.Update{SHA: shaA, State: status.Superseded, Outcome: status.Deployed, CarriedBy: shaB, AppliedAt: applied, FinishedAt: finished, Deployments: []string{"api"}})
	require.Len(t, l.owed("web"), 2, "the rolling-out report gave way to the final one")

	start(t, outbox.Options{Store: l, Namespaces: []string{"web", "api"}, Reporters: []status.Reporter{s3r}, Clock: fc})
	idle(t, fc, func() bool { o := l.owed("web"); return len(o) == 2 && o[0].Attempts == 1 }, "first attempt cut short by the outage")
	fc.Step(1200 * time.Millisecond)
	idle(t, fc, func() bool { o := l.owed("web"); return len(o) == 2 && o[0].Attempts == 2 }, "retried while S3 is down")
	require.Contains(t, l.owed("web")[0].LastError, "connection refused")

	require.NoError(t, srv.Restart(ctx))
	fc.Step(2400 * time.Millisecond)
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 && len(l.owed("api")) == 0 }, "everything delivered after the outage")

	stamp := "2026-05-01T09:59:42Z"
	want := map[string]string{
		"ci/prod/web/web/" + shaA:               stamp,
		"ci/prod/web/web/aaaaaaa":               stamp,
		"ci/prod/web/worker/" + shaA:            stamp,
		"ci/prod/web/worker/aaaaaaa":            stamp,
		"ci/prod/api/api/" + shaA:               stamp,
		"ci/prod/api/api/aaaaaaa":               stamp,
		"ci/prod/web/_result/" + shaA + ".json": "",
		"ci/prod/web/_result/" + shaB + ".json": "",
		"ci/prod/api/_result/" + shaA + ".json": "",
	}
	for key, body := range want {
		got, err := s3marker.Read(ctx, srv.Client(), "markers", key)
		require.NoError(t, err, key)
		if body != "" {
			require.Equal(t, body, string(got), key)
		}
		bodies := rec.bodies[key]
		require.NotEmpty(t, bodies, key)
		for _, b := range bodies {
			require.Equal(t, string(got), b, "%s written twice with different content", key)
		}
	}
	require.Len(t, rec.bodies, len(want), "no other object")
	for _, key := range []string{"ci/prod/web/_result/" + shaA + ".json", "ci/prod/web/_result/" + shaB + ".json", "ci/prod/api/_result/" + shaA + ".json"} {
		require.Len(t, rec.bodies[key], 1, "each result is written once")
	}
	res, err := s3marker.ReadResult(ctx, srv.Client(), "markers", "ci/prod/web/_result/"+shaB+".json")
	require.NoError(t, err)
	require.Equal(t, status.Failed, res.State)
	require.Equal(t, "health timeout", res.Reason)
	res, err = s3marker.ReadResult(ctx, srv.Client(), "markers", "ci/prod/api/_result/"+shaA+".json")
	require.NoError(t, err)
	require.Equal(t, status.Deployed, res.Effective())
	require.Equal(t, shaB, res.CarriedBy)
}

// The whole reason written by the process that recorded it stays in the S3
// result when another process (a restart, a new leader), which knows only
// the bounded reason, replays the same owed report.
func TestAReplayKeepsTheWholeReasonInTheS3Result(t *testing.T) {
	ctx := context.Background()
	srv := startBucket(t)
	s3r, err := s3marker.New(srv.Client(), s3marker.Options{Bucket: "markers", Cluster: "prod"})
	require.NoError(t, err)

	whole := "dry run refused: " + strings.Repeat("Deployment web: spec.replicas: Invalid value; ", 60)
	fc := testingclock.NewFakeClock(t0)
	first, replay := newLedger("web"), newLedger("web")
	opts := outbox.Options{Store: first, Namespaces: []string{"web"}, Reporters: []status.Reporter{s3r}, Clock: fc}
	a, err := outbox.NewDeliverer(opts)
	require.NoError(t, err)
	require.NoError(t, first.Update(ctx, "web", func(st *version.VersionStatus) error {
		a.Record(st, status.Update{Namespace: "web", SHA: shaA, State: status.Failed, FinishedAt: t0,
			Reason: lifecycle.Bound(whole, lifecycle.MaxReason), Detail: whole})
		return nil
	}))
	replay.st["web"] = first.st["web"] // the same owed report, as a crash before its clearing leaves it
	key := s3marker.ResultKey("", "prod", "web", shaA)

	run(t, a)
	idle(t, fc, func() bool { return len(first.owed("web")) == 0 })
	res, err := s3marker.ReadResult(ctx, srv.Client(), "markers", key)
	require.NoError(t, err)
	require.Equal(t, whole, res.Reason)

	opts.Store = replay
	start(t, opts)
	idle(t, fc, func() bool { return len(replay.owed("web")) == 0 })
	res, err = s3marker.ReadResult(ctx, srv.Client(), "markers", key)
	require.NoError(t, err)
	require.Equal(t, whole, res.Reason, "the replay leaves the whole reason")
}

// forgeCase runs the outbox against one forge fake.
type forgeCase struct {
	name     string
	start    func(t *testing.T, token string, clk *testingclock.FakeClock) (status.Reporter, forgeFake)
	repo     string
	states   map[status.State]string // what the forge shows per final state
	pending  []string                // what it shows while applying and rolling out
	badToken string
	fixHint  string
}

type forgeFake interface {
	FailNext(n int, f forge.Fault)
	Calls() []forge.Call
	Statuses(repo, sha string) []forge.Status
}

var forges = []forgeCase{
	{
		name: "github",
		start: func(t *testing.T, token string, clk *testingclock.FakeClock) (status.Reporter, forgeFake) {
			f := forge.NewGitHub("ghp_good", "acme/config")
			t.Cleanup(f.Close)
			c, err := githubstatus.NewTokenClient(f.APIURL(), token)
			require.NoError(t, err)
			r, err := githubstatus.New(githubstatus.Options{Client: c, Owner: "acme", Repo: "config", Cluster: "prod", Clock: clk})
			require.NoError(t, err)
			return r, f
		},
		repo:     "acme/config",
		states:   map[status.State]string{status.Deployed: "success", status.Failed: "failure"},
		pending:  []string{"pending", "pending"},
		badToken: "ghp_revoked",
		fixHint:  "GITHUB_TOKEN is not valid",
	},
	{
		name: "gitlab",
		start: func(t *testing.T, token string, _ *testingclock.FakeClock) (status.Reporter, forgeFake) {
			f := forge.NewGitLab("glpat-good", "platform/team/config")
			t.Cleanup(f.Close)
			c, err := gitlabstatus.NewClient(f.URL(), token)
			require.NoError(t, err)
			r, err := gitlabstatus.New(gitlabstatus.Options{Client: c, Project: "platform/team/config", Cluster: "prod"})
			require.NoError(t, err)
			return r, f
		},
		repo:     "platform/team/config",
		states:   map[status.State]string{status.Deployed: "success", status.Failed: "failed"},
		pending:  []string{"pending", "running"},
		badToken: "glpat-revoked",
		fixHint:  "GITLAB_TOKEN is not valid",
	},
}

func states(st []forge.Status) []string {
	out := []string{}
	for _, s := range st {
		out = append(out, s.State)
	}
	return out
}

func TestForgeLifecyclesThroughTheOutbox(t *testing.T) {
	for _, fc := range forges {
		for _, final := range []status.State{status.Deployed, status.Failed} {
			t.Run(fc.name+"/"+string(final), func(t *testing.T) {
				clk := testingclock.NewFakeClock(t0)
				r, f := goodForge(t, fc, clk)
				l := newLedger("web")
				d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{r}, Clock: clk})
				want := append([]string{}, fc.pending...)
				want = append(want, fc.states[final])
				for i, u := range []status.Update{
					{SHA: shaA, State: status.Applying},
					{SHA: shaA, State: status.RollingOut, Ready: 1, Total: 2},
					{SHA: shaA, State: final, Reason: "Deployment web: ProgressDeadlineExceeded", AppliedAt: t0, FinishedAt: t0.Add(42 * time.Second)},
				} {
					u.Cluster = "prod"
					l.record(t, "web", d.Sinks(), u)
					d.Kick()
					idle(t, clk, func() bool { return len(l.owed("web")) == 0 && len(f.Statuses(fc.repo, shaA)) == i+1 })
				}
				require.Equal(t, want, states(f.Statuses(fc.repo, shaA)))
			})
		}
	}
}

func TestForgeOutagesAndRateLimits(t *testing.T) {
	for _, fc := range forges {
		t.Run(fc.name+"/429 with Retry-After", func(t *testing.T) {
			clk := testingclock.NewFakeClock(t0)
			r, f := goodForge(t, fc, clk)
			f.FailNext(1, forge.Fault{Status: 429, Headers: map[string]string{"Retry-After": "30"}, Body: `{"message":"429 Too Many Requests"}`})
			l := newLedger("web")
			l.record(t, "web", []string{r.Name()}, status.Update{Cluster: "prod", SHA: shaA, State: status.Applying})
			d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{r}, Clock: clk})
			idle(t, clk, func() bool { return len(f.Calls()) == 1 })
			d.Kick()
			clk.Step(29 * time.Second)
			idle(t, clk, func() bool { return len(l.owed("web")) == 1 && l.owed("web")[0].Attempts == 1 })
			require.Len(t, f.Calls(), 1, "Retry-After honoured")
			clk.Step(time.Second)
			idle(t, clk, func() bool { return len(l.owed("web")) == 0 })
			require.Equal(t, []string{"pending"}, states(f.Statuses(fc.repo, shaA)))
		})
		t.Run(fc.name+"/5xx burst", func(t *testing.T) {
			clk := testingclock.NewFakeClock(t0)
			r, f := goodForge(t, fc, clk)
			f.FailNext(3, forge.Fault{Status: 502, Body: `{"message":"502 Bad Gateway"}`})
			l := newLedger("web")
			l.record(t, "web", []string{r.Name()}, status.Update{Cluster: "prod", SHA: shaA, State: status.Deployed, AppliedAt: t0, FinishedAt: t0.Add(time.Minute)})
			start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{r}, Clock: clk})
			for i, wait := range []time.Duration{1200 * time.Millisecond, 2400 * time.Millisecond, 4800 * time.Millisecond} {
				idle(t, clk, func() bool { return len(f.Calls()) == i+1 }, "attempt %d", i+1)
				clk.Step(wait)
			}
			idle(t, clk, func() bool { return len(l.owed("web")) == 0 })
			require.Equal(t, []string{fc.states[status.Deployed]}, states(f.Statuses(fc.repo, shaA)))
		})
		for _, refusal := range []string{"bad token", "unknown repository"} {
			t.Run(fc.name+"/"+refusal, func(t *testing.T) {
				clk := testingclock.NewFakeClock(t0)
				var r status.Reporter
				var f forgeFake
				hint := fc.fixHint
				if refusal == "bad token" {
					r, f = fc.start(t, fc.badToken, clk)
				} else {
					r, f = goodForge(t, fc, clk)
					f.FailNext(1, forge.Fault{Status: 404, Body: `{"message":"404 Project Not Found"}`})
					hint = "not found"
				}
				l := newLedger("web")
				l.record(t, "web", []string{r.Name()}, status.Update{Cluster: "prod", SHA: shaA, State: status.Applying})
				d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{r}, Clock: clk})
				idle(t, clk, func() bool {
					c := l.status("web").Condition(version.ConditionReporting)
					return c != nil && c.Status == metav1.ConditionFalse
				})
				c := l.status("web").Condition(version.ConditionReporting)
				require.Contains(t, c.Message, hint)
				require.Contains(t, c.Reason, "Refused")
				for range 10 {
					d.Kick()
					clk.Step(5 * time.Minute)
				}
				idle(t, clk, func() bool { return true })
				require.Len(t, f.Calls(), 1, "refused once, not hammered")
			})
		}
	}
}

func goodForge(t *testing.T, fc forgeCase, clk *testingclock.FakeClock) (status.Reporter, forgeFake) {
	if fc.name == "github" {
		return fc.start(t, "ghp_good", clk)
	}
	return fc.start(t, "glpat-good", clk)
}
