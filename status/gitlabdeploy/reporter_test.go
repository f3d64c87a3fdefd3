package gitlabdeploy_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/deployment"
	"github.com/syncgate/syncgate/status/gitlabdeploy"
	"github.com/syncgate/syncgate/status/gitlabstatus"
	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/sinktest"
)

const (
	project = "platform/team/config"
	shaA    = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB    = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaC    = "cccccccccccccccccccccccccccccccccccccccc"
)

func setup(t *testing.T, url string) (*forge.GitLab, *gitlabdeploy.Reporter) {
	t.Helper()
	return setupAhead(t, url, 0)
}

// setupAhead is setup with an agent whose clock runs ahead of the forge's
// by ahead.
func setupAhead(t *testing.T, url string, ahead time.Duration) (*forge.GitLab, *gitlabdeploy.Reporter) {
	t.Helper()
	f := forge.NewGitLab("glpat-good", project)
	t.Cleanup(f.Close)
	c, err := gitlabstatus.NewClient(f.URL(), "glpat-good")
	require.NoError(t, err)
	naming, err := deployment.NewNaming("", url)
	require.NoError(t, err)
	r, err := gitlabdeploy.New(gitlabdeploy.Options{Client: c, Project: project, Cluster: "prod", Branch: func() string { return "release" }, Naming: naming,
		Now: func() time.Time { return f.Now().Add(ahead) }})
	require.NoError(t, err)
	return f, r
}

func TestLifecycles(t *testing.T) {
	f, r := setup(t, "https://{{.Namespace}}.{{.Cluster}}.example.com")
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	sinktest.Deliver(t, r,
		status.Update{SHA: shaA, State: status.Applying},
		status.Update{SHA: shaA, State: status.RollingOut, Ready: 1, Total: 2},
		status.Update{SHA: shaA, State: status.RollingOut, Ready: 2, Total: 2},
		status.Update{SHA: shaA, State: status.Deployed, AppliedAt: t0, FinishedAt: t0.Add(time.Minute)},
		status.Update{SHA: shaB, State: status.Failed, Reason: "invalid YAML"},
	)
	envs := f.Environments(project)
	require.Len(t, envs, 1, "created on first use")
	require.Equal(t, forge.Environment{ID: envs[0].ID, Project: project, Name: "prod/web", ExternalURL: "https://web.prod.example.com"}, envs[0])
	a := f.Deployments(project, shaA, "prod/web")
	require.Len(t, a, 1)
	require.Equal(t, []string{"created", "running", "success"}, a[0].States())
	require.Equal(t, "release", a[0].Ref)
	require.Equal(t, []string{"failed"}, f.Deployments(project, shaB, "")[0].States(), "refused before it applied")

	// A carried commit gets the carrier's outcome, but a success would make
	// it the environment's current deployment, taken from its carrier: it
	// is canceled, as one superseded before it applied is.
	sinktest.Deliver(t, r,
		status.Update{SHA: shaB, Namespace: "api", State: status.Applying},
		status.Update{SHA: shaC, Namespace: "api", State: status.Applying},
		status.Update{SHA: shaC, Namespace: "api", State: status.Deployed},
		status.Update{SHA: shaB, Namespace: "api", State: status.Superseded, CarriedBy: shaC, Outcome: status.Deployed},
		status.Update{SHA: shaA, Namespace: "api", State: status.Superseded, CarriedBy: shaC, Outcome: status.Deployed},
	)
	require.Equal(t, []string{"created", "canceled"}, f.Deployments(project, shaB, "prod/api")[0].States())
	require.Equal(t, []string{"canceled"}, f.Deployments(project, shaA, "prod/api")[0].States())
	require.Equal(t, []string{"created", "success"}, f.Deployments(project, shaC, "prod/api")[0].States(), "C, the last success, is current")
	require.Len(t, f.Environments(project), 2)

	// A rollback deploys A again: GitLab takes a new deployment for it.
	sinktest.Deliver(t, r, status.Update{SHA: shaA, State: status.Applying}, status.Update{SHA: shaA, State: status.Deployed})
	again := f.Deployments(project, shaA, "prod/web")
	require.Len(t, again, 2)
	require.Equal(t, []string{"created", "success"}, again[1].States())
}

func TestEnvironmentURLFollowsTheSetting(t *testing.T) {
	f, r := setup(t, "")
	sinktest.Deliver(t, r, status.Update{SHA: shaA, State: status.Applying})
	require.Empty(t, f.Environments(project)[0].ExternalURL)
	c, err := gitlabstatus.NewClient(f.URL(), "glpat-good")
	require.NoError(t, err)
	naming, err := deployment.NewNaming("", "https://new.example.com")
	require.NoError(t, err)
	r2, err := gitlabdeploy.New(gitlabdeploy.Options{Client: c, Project: project, Cluster: "prod", Naming: naming})
	require.NoError(t, err)
	sinktest.Deliver(t, r2, status.Update{SHA: shaA, Namespace: "web", State: status.Deployed})
	require.Len(t, f.Environments(project), 1)
	require.Equal(t, "https://new.example.com", f.Environments(project)[0].ExternalURL)
}

func TestErrors(t *testing.T) {
	var f *forge.GitLab
	sinktest.Recovers(t, status.Update{SHA: shaA, Namespace: "web", State: status.Applying}, []sinktest.Case{
		{Name: "forbidden", Fault: forge.Fault{Status: 403, Body: `{"message":"403 Forbidden"}`}, Want: sinktest.Answer{Permanent: true, Contains: "Developer role"}},
		{Name: "unknown project", Fault: forge.Fault{Status: 404, Body: `{"message":"404 Project Not Found"}`}, Want: sinktest.Answer{Permanent: true, Contains: "not found"}},
		{Name: "429", Fault: forge.Fault{Status: 429, Headers: map[string]string{"Retry-After": "7"}, Body: `{"message":"429 Too Many Requests"}`}, Want: sinktest.Answer{After: 7 * time.Second}},
		{Name: "5xx", Fault: forge.Fault{Status: 502, Body: `{"message":"502 Bad Gateway"}`}, Want: sinktest.Answer{}},
	}, func(t *testing.T) (sinktest.Faulter, status.Reporter) {
		var r status.Reporter
		f, r = setup(t, "")
		return f, r
	}, func(t *testing.T) { require.Len(t, f.Deployments(project, shaA, ""), 1) })
}

// A rollout that ended before its earlier reports were delivered (the
// outbox keeps only a commit's latest report) still shows it was created and
// ran; a commit refused before it applied goes straight to its outcome.
func TestOutcomeBeforeEarlierReports(t *testing.T) {
	f, r := setup(t, "")
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	sinktest.Deliver(t, r, status.Update{SHA: shaA, State: status.Deployed, AppliedAt: t0, FinishedAt: t0.Add(time.Second)})
	require.Equal(t, []string{"created", "running", "success"}, f.Deployments(project, shaA, "")[0].States())
	sinktest.Deliver(t, r,
		status.Update{SHA: shaB, State: status.Applying},
		status.Update{SHA: shaB, State: status.Failed, Reason: "Deployment web: CrashLoopBackOff", AppliedAt: t0, FinishedAt: t0.Add(time.Minute)})
	require.Equal(t, []string{"created", "running", "failed"}, f.Deployments(project, shaB, "")[0].States())
}

// A rollback A→B→A whose earlier reports were merged into its deployed one
// deploys A again: a new deployment, which GitLab then shows live in place
// of B's. Replays of the reports already posted post nothing.
func TestRollbackMergedIntoItsOutcome(t *testing.T) {
	f, r := setup(t, "")
	fc := testingclock.NewFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	f.SetClock(fc.Now)
	sinktest.MergedRollback(t, r, fc, shaA, shaB)
	a := f.Deployments(project, shaA, "prod/web")
	require.Len(t, a, 2, "the rollback deploys A again")
	require.Equal(t, []string{"created", "running", "success"}, a[1].States())
	b := f.Deployments(project, shaB, "")
	require.Len(t, b, 1)
	require.Greater(t, a[1].ID, b[0].ID, "A's is the newest success")
}

// A report of the attempt A's deployment was made for makes no other
// deployment, whatever its AppliedAt and the agent's clock: posted and then
// replayed by an agent whose clock runs ten minutes ahead of GitLab's, or
// of A's rollout applied again with no rollback (a restore re-stamps its
// AppliedAt).
func TestNoRollbackMakesNoDeployment(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ahead time.Duration
		run   func(testing.TB, status.Reporter, *testingclock.FakeClock, string)
	}{
		{"replayed, the agent's clock ahead", 10 * time.Minute, func(t testing.TB, r status.Reporter, fc *testingclock.FakeClock, sha string) {
			sinktest.ReplayedAhead(t, r, fc, sha, 10*time.Minute)
		}},
		{"its rollout applied again", 0, sinktest.Restamped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := setupAhead(t, "", tc.ahead)
			fc := testingclock.NewFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
			f.SetClock(fc.Now)
			tc.run(t, r, fc, shaA)
			a := f.Deployments(project, shaA, "")
			require.Len(t, a, 1, "no rollback")
			require.Equal(t, []string{"created", "running", "success"}, a[0].States())
		})
	}
}

// A deployment its attempt left created ends canceled when the commit is
// begun again, and the new attempt gets a deployment of its own.
func TestBegunAgainEndsTheUnfinishedDeployment(t *testing.T) {
	f, r := setup(t, "")
	fc := testingclock.NewFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	f.SetClock(fc.Now)
	sinktest.BegunAgain(t, r, fc, shaA)
	a := f.Deployments(project, shaA, "")
	require.Len(t, a, 2)
	require.Equal(t, []string{"created", "canceled"}, a[0].States())
	require.Equal(t, []string{"created", "running", "success"}, a[1].States())
}

// The deployment id kept at a commit's last report is read by itself; one
// that names no deployment of the commit in its environment any more
// (deleted, another commit's, the environment renamed) sends the lookup to
// the environment's newest deployments, and the id returned is the one to
// keep from then on.
func TestKeptDeploymentIDs(t *testing.T) {
	f, r := setup(t, "")
	kept, err := r.ReportKept(t.Context(), status.Update{SHA: shaA, Namespace: "web", State: status.Applying})
	require.NoError(t, err)
	a := f.Deployments(project, shaA, "prod/web")
	require.Len(t, a, 1)
	require.Equal(t, strconv.FormatInt(a[0].ID, 10), kept)
	other, err := r.ReportKept(t.Context(), status.Update{SHA: shaB, Namespace: "web", State: status.Applying})
	require.NoError(t, err)

	for _, tc := range []struct {
		name, ref string
		reads     []string
	}{
		{"the commit's", kept, []string{"/deployments/" + kept}},
		{"another commit's", other, []string{"/deployments/" + other, "/deployments"}},
		{"gone", "999999", []string{"/deployments/999999", "/deployments"}},
		{"none", "", []string{"/deployments"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.Calls())
			got, err := r.ReportKept(t.Context(), status.Update{SHA: shaA, Namespace: "web", State: status.RollingOut, Ref: tc.ref})
			require.NoError(t, err)
			require.Equal(t, kept, got)
			var reads []string
			for _, c := range f.Calls()[before:] {
				if c.Method == "GET" && strings.Contains(c.Path, "/deployments") {
					reads = append(reads, strings.TrimPrefix(c.Path, "/api/v4/projects/"+project))
				}
			}
			require.Equal(t, tc.reads, reads)
		})
	}
	require.Len(t, f.Deployments(project, shaA, "prod/web"), 1, "found each time")
	require.Equal(t, []string{"created", "running"}, f.Deployments(project, shaA, "prod/web")[0].States())
}
