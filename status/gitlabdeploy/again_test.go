package gitlabdeploy_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	gitlab "gitlab.com/gitlab-org/api/client-go"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/gitlabdeploy"
	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/sinktest"
)

// noDate is a transport whose answers lost their Date header (a proxy
// that drops it).
type noDate struct{}

func (noDate) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if resp != nil {
		resp.Header.Del("Date")
	}
	return resp, err
}

// With no Date on GitLab's answers, when a deployment was made is unknown
// in the agent's clock, and GitLab's created_at is not read as agent time:
// one run by an agent ten minutes ahead makes one deployment.
func TestNoDateMakesNoRollback(t *testing.T) {
	f := forge.NewGitLab("glpat-good", project)
	t.Cleanup(f.Close)
	fc := testingclock.NewFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	f.SetClock(fc.Now)
	c, err := gitlab.NewClient("glpat-good", gitlab.WithBaseURL(f.URL()), gitlab.WithoutRetries(),
		gitlab.WithHTTPClient(&http.Client{Transport: noDate{}}))
	require.NoError(t, err)
	agent := func() time.Time { return fc.Now().Add(10 * time.Minute) }
	r, err := gitlabdeploy.New(gitlabdeploy.Options{Client: c, Project: project, Cluster: "prod", Now: agent})
	require.NoError(t, err)
	begun := agent()
	fc.Step(time.Second)
	sinktest.Deliver(t, r, status.Update{SHA: shaA, State: status.Applying, BegunAt: begun})
	fc.Step(5 * time.Second)
	sinktest.Deliver(t, r, status.Update{SHA: shaA, State: status.RollingOut, BegunAt: begun, AppliedAt: agent()})
	fc.Step(time.Minute)
	sinktest.Deliver(t, r, sinktest.Done(shaA, begun))
	a := f.Deployments(project, shaA, "")
	require.Len(t, a, 1, "one run")
	require.Equal(t, []string{"created", "running", "success"}, a[0].States())
}

// A rollback to a commit whose rollout failed, overtaken by a newer
// commit's success before its own went out, gets a deployment of its own,
// which ends canceled; the failed one keeps its failure.
func TestOvertakenRollback(t *testing.T) {
	f, r := setup(t, "")
	fc := testingclock.NewFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	f.SetClock(fc.Now)
	sinktest.OvertakenRollback(t, r, fc, shaA, shaB, shaC)
	a := f.Deployments(project, shaA, "")
	require.Len(t, a, 2, "the rollback's own deployment")
	require.Equal(t, []string{"created", "running", "failed"}, a[0].States())
	require.Equal(t, []string{"created", "running", "canceled"}, a[1].States())
	require.Equal(t, []string{"created", "running", "success"}, f.Deployments(project, shaC, "")[0].States(), "C stays current")
}
