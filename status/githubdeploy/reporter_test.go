package githubdeploy_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/deployment"
	"github.com/syncgate/syncgate/status/githubdeploy"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/sinktest"
)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaC = "cccccccccccccccccccccccccccccccccccccccc"
)

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T, opts githubdeploy.Options) (*forge.GitHub, *githubdeploy.Reporter) {
	t.Helper()
	f := forge.NewGitHub("ghp_good", "acme/config")
	t.Cleanup(f.Close)
	c, err := githubstatus.NewTokenClient(f.APIURL(), "ghp_good")
	require.NoError(t, err)
	opts.Client, opts.Owner, opts.Repo, opts.Cluster = c, "acme", "config", "prod"
	r, err := githubdeploy.New(opts)
	require.NoError(t, err)
	return f, r
}

func TestOwnCommits(t *testing.T) {
	naming, err := deployment.NewNaming("", "https://{{.Namespace}}.{{.Cluster}}.example.com")
	require.NoError(t, err)
	f, r := setup(t, githubdeploy.Options{Options: githubstatus.Options{PublicURL: "https://syncgate.example.com/"}, Naming: naming})
	sinktest.Deliver(t, r,
		status.Update{SHA: shaA, State: status.Applying},
		status.Update{SHA: shaA, State: status.RollingOut, Ready: 1, Total: 2},
		status.Update{SHA: shaA, State: status.RollingOut, Ready: 2, Total: 2},
		status.Update{SHA: shaA, State: status.Deployed, AppliedAt: t0, FinishedAt: t0.Add(42 * time.Second)},
	)
	deps := f.Deployments("acme/config", shaA, "")
	require.Len(t, deps, 1, "one deployment per commit and environment")
	d := deps[0]
	require.Equal(t, "prod/web", d.Environment)
	require.Equal(t, shaA, d.Ref)
	require.Equal(t, []string{"queued", "in_progress", "success"}, d.States())
	var req map[string]any
	require.NoError(t, json.Unmarshal([]byte(d.Request), &req))
	require.Equal(t, false, req["auto_merge"])
	require.Equal(t, []any{}, req["required_contexts"])
	require.Equal(t, false, req["transient_environment"])
	last := d.Latest()
	require.Equal(t, "deployed in 42s", last.Description)
	require.Equal(t, "https://syncgate.example.com/status/"+shaA, last.LogURL)
	require.Equal(t, "https://web.prod.example.com", last.EnvironmentURL)
	require.True(t, last.AutoInactive)

	// The next deployed commit leaves A inactive; a failed one does not.
	sinktest.Deliver(t, r,
		status.Update{SHA: shaB, State: status.Applying},
		status.Update{SHA: shaB, State: status.Failed, Reason: "Deployment web: CrashLoopBackOff"},
	)
	require.Equal(t, []string{"queued", "failure"}, f.Deployments("acme/config", shaB, "")[0].States())
	require.Equal(t, "success", f.Deployments("acme/config", shaA, "")[0].Latest().State)
	sinktest.Deliver(t, r, status.Update{SHA: shaC, State: status.Applying}, status.Update{SHA: shaC, State: status.Deployed})
	require.Equal(t, []string{"queued", "in_progress", "success", "inactive"}, f.Deployments("acme/config", shaA, "")[0].States())
}

func TestCarriedCommits(t *testing.T) {
	f, r := setup(t, githubdeploy.Options{Transient: true})
	// B began and was overtaken by C before it applied; A was batched
	// behind C and never began.
	sinktest.Deliver(t, r,
		status.Update{SHA: shaB, State: status.Applying},
		status.Update{SHA: shaC, State: status.Applying},
		status.Update{SHA: shaC, State: status.RollingOut},
		status.Update{SHA: shaC, State: status.Deployed, AppliedAt: t0, FinishedAt: t0.Add(42 * time.Second)},
		status.Update{SHA: shaB, State: status.Superseded, CarriedBy: shaC, Outcome: status.Deployed, AppliedAt: t0, FinishedAt: t0.Add(42 * time.Second)},
		status.Update{SHA: shaA, State: status.Superseded, CarriedBy: shaC, Outcome: status.Deployed, AppliedAt: t0, FinishedAt: t0.Add(42 * time.Second)},
	)
	require.Equal(t, []string{"queued", "inactive"}, f.Deployments("acme/config", shaB, "")[0].States())
	require.Equal(t, "superseded by ccccccc before it applied", f.Deployments("acme/config", shaB, "")[0].Latest().Description)
	a := f.Deployments("acme/config", shaA, "")
	require.Len(t, a, 1)
	require.Equal(t, []string{"success", "inactive"}, a[0].States(), "deployed, and the carrier holds the environment")
	require.Equal(t, "deployed by ccccccc in 42s", a[0].Statuses[0].Description)
	require.False(t, a[0].Statuses[0].AutoInactive, "a carried commit leaves its carrier live")
	require.Equal(t, "deployed by ccccccc, which holds the environment", a[0].Latest().Description)
	require.True(t, a[0].Transient)
	require.Equal(t, []string{"queued", "in_progress", "success"}, f.Deployments("acme/config", shaC, "")[0].States(), "the carrier stays live")

	sinktest.Deliver(t, r, status.Update{SHA: shaA, Namespace: "api", State: status.Superseded, CarriedBy: shaC, Outcome: status.Failed, Reason: "ImagePullBackOff"})
	api := f.Deployments("acme/config", shaA, "prod/api")
	require.Len(t, api, 1, "each environment has its own deployment")
	require.Equal(t, []string{"failure"}, api[0].States())
	require.Equal(t, "failed in ccccccc: ImagePullBackOff", api[0].Latest().Description)
}

func TestHeldIsNotPosted(t *testing.T) {
	f, r := setup(t, githubdeploy.Options{})
	sinktest.Deliver(t, r, status.Update{SHA: shaA, State: status.Superseded, CarriedBy: shaC})
	require.Empty(t, f.Calls())
}

func TestCommitStatusesDoNotBlockTheDeployment(t *testing.T) {
	f, r := setup(t, githubdeploy.Options{})
	c, err := githubstatus.NewTokenClient(f.APIURL(), "ghp_good")
	require.NoError(t, err)
	st, err := githubstatus.New(githubstatus.Options{Client: c, Owner: "acme", Repo: "config", Cluster: "prod"})
	require.NoError(t, err)
	u := status.Update{SHA: shaA, Namespace: "web", State: status.Applying}
	require.NoError(t, st.Report(context.Background(), u))
	sinktest.Deliver(t, r, u)
	require.Equal(t, []string{"queued"}, f.Deployments("acme/config", shaA, "")[0].States())
}

func TestErrors(t *testing.T) {
	var f *forge.GitHub
	sinktest.Recovers(t, status.Update{SHA: shaA, Namespace: "web", State: status.Applying}, []sinktest.Case{
		{Name: "forbidden", Fault: forge.Fault{Status: 403, Body: `{"message":"Resource not accessible by integration"}`}, Want: sinktest.Answer{Permanent: true, Contains: "repo_deployment"}},
		{Name: "unknown ref", Fault: forge.Fault{Status: 422, Body: `{"message":"No ref found for: aaaaaaa"}`}, Want: sinktest.Answer{Permanent: true, Contains: "is the commit pushed"}},
		{Name: "429", Fault: forge.Fault{Status: 429, Headers: map[string]string{"Retry-After": "12"}, Body: `{"message":"Too Many Requests"}`}, Want: sinktest.Answer{After: 12 * time.Second}},
		{Name: "5xx", Fault: forge.Fault{Status: 502, Body: `{"message":"Server Error"}`}, Want: sinktest.Answer{}},
	}, func(t *testing.T) (sinktest.Faulter, status.Reporter) {
		var r status.Reporter
		f, r = setup(t, githubdeploy.Options{})
		return f, r
	}, func(t *testing.T) { require.Len(t, f.Deployments("acme/config", shaA, ""), 1) })
}

// A rollout that ended before its earlier reports were delivered (the
// outbox keeps only a commit's latest report) still shows it was queued and
// ran; a commit refused before it applied goes straight to its outcome.
func TestOutcomeBeforeEarlierReports(t *testing.T) {
	f, r := setup(t, githubdeploy.Options{})
	sinktest.Deliver(t, r, status.Update{SHA: shaA, State: status.Deployed, AppliedAt: t0, FinishedAt: t0.Add(time.Second)})
	require.Equal(t, []string{"queued", "in_progress", "success"}, f.Deployments("acme/config", shaA, "")[0].States())
	sinktest.Deliver(t, r,
		status.Update{SHA: shaB, State: status.Applying},
		status.Update{SHA: shaB, State: status.Failed, Reason: "Deployment web: CrashLoopBackOff", AppliedAt: t0, FinishedAt: t0.Add(time.Minute)})
	require.Equal(t, []string{"queued", "in_progress", "failure"}, f.Deployments("acme/config", shaB, "")[0].States())
	sinktest.Deliver(t, r, status.Update{SHA: shaC, State: status.Failed, Reason: "invalid YAML"})
	require.Equal(t, []string{"failure"}, f.Deployments("acme/config", shaC, "")[0].States())
}

// A rollback A→B→A whose earlier reports were merged into its deployed one
// deploys A again: a new deployment, live in place of B's. Replays of the
// reports already posted post nothing.
func TestRollbackMergedIntoItsOutcome(t *testing.T) {
	f, r := setup(t, githubdeploy.Options{})
	fc := testingclock.NewFakeClock(t0)
	f.SetClock(fc.Now)
	sinktest.MergedRollback(t, r, fc, shaA, shaB)
	a := f.Deployments("acme/config", shaA, "prod/web")
	require.Len(t, a, 2, "the rollback deploys A again")
	require.Equal(t, []string{"queued", "in_progress", "success", "inactive"}, a[0].States())
	require.Equal(t, []string{"queued", "in_progress", "success"}, a[1].States())
	b := f.Deployments("acme/config", shaB, "")
	require.Len(t, b, 1)
	require.Equal(t, []string{"queued", "in_progress", "success", "inactive"}, b[0].States(), "A is live again")
}
