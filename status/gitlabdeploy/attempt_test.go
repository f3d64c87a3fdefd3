package gitlabdeploy_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/gitlabdeploy"
	"github.com/syncgate/syncgate/status/gitlabstatus"
	"github.com/syncgate/syncgate/testing/sinktest"
)

// A run begun on a replica whose clock is ten minutes ahead, its applying
// report posted from there, then its rollout and outcome reported by a
// replica with the right clock (a restart elsewhere) with the reference
// kept: the kept reference names the attempt, so the clocks decide nothing
// and the run has one deployment.
func TestKeptAttemptOutlivesTheClock(t *testing.T) {
	f, ahead := setupAhead(t, "", 10*time.Minute)
	fc := testingclock.NewFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	f.SetClock(fc.Now)
	c, err := gitlabstatus.NewClient(f.URL(), "glpat-good")
	require.NoError(t, err)
	right, err := gitlabdeploy.New(gitlabdeploy.Options{Client: c, Project: project, Cluster: "prod", Branch: func() string { return "release" }, Now: f.Now})
	require.NoError(t, err)
	begun := fc.Now().Add(10 * time.Minute)
	fc.Step(time.Second)
	ref := sinktest.DeliverKept(t, ahead, "", status.Update{SHA: shaA, State: status.Applying, BegunAt: begun})
	fc.Step(5 * time.Second)
	done := sinktest.Done(shaA, begun)
	rolling := status.Update{SHA: shaA, State: status.RollingOut, BegunAt: begun, AppliedAt: done.AppliedAt}
	ref = sinktest.DeliverKept(t, right, ref, rolling)
	fc.Step(time.Minute)
	sinktest.DeliverKept(t, right, ref, done)
	a := f.Deployments(project, shaA, "")
	require.Len(t, a, 1, "one run")
	require.Equal(t, []string{"created", "running", "success"}, a[0].States())
}

// GitLab unreachable through A, B and a rollback to A: all three reports
// go out late, in order, A's rollback with the reference kept at A's
// first. A's first deployment was created after the rollback began, but
// the reference names the attempt it was made for: the rollback gets a
// deployment of its own, live after B's. A late report of A's first
// attempt then posts nothing.
func TestRollbackBegunWhileGitLabWasDown(t *testing.T) {
	f, r := setup(t, "")
	fc := testingclock.NewFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	f.SetClock(fc.Now)
	first, second := sinktest.Done(shaA, fc.Now()), sinktest.Done(shaB, fc.Now().Add(time.Hour))
	rollback := sinktest.Done(shaA, fc.Now().Add(2*time.Hour))
	fc.Step(3 * time.Hour)
	kept := sinktest.DeliverKept(t, r, "", first)
	sinktest.DeliverKept(t, r, "", second)
	kept = sinktest.DeliverKept(t, r, kept, rollback)
	a := f.Deployments(project, shaA, "")
	b := f.Deployments(project, shaB, "")
	require.Len(t, a, 2, "the rollback deploys A again")
	require.Len(t, b, 1)
	require.Equal(t, []string{"created", "running", "success"}, a[1].States())
	require.Greater(t, a[1].ID, b[0].ID, "A's is the newest success")

	sinktest.DeliverKept(t, r, kept, status.Update{SHA: shaA, State: status.Applying, BegunAt: first.BegunAt})
	again := f.Deployments(project, shaA, "")
	require.Len(t, again, 2, "an earlier attempt's late report makes none")
	require.Equal(t, a[1].States(), again[1].States(), "nor moves the rollback's")
}

// A reference kept before the attempt was (a bare id) has its attempt
// unknown; one that names it gives it back as it was kept.
func TestParseKept(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.UTC)
	k := gitlabdeploy.Kept{ID: 42, Attempt: at}
	require.Equal(t, "42@2026-05-01T10:00:00.123456789Z", k.String())
	require.Equal(t, k, gitlabdeploy.ParseKept(k.String()))
	require.Equal(t, gitlabdeploy.Kept{ID: 42}, gitlabdeploy.ParseKept("42"))
	require.Equal(t, "42", gitlabdeploy.Kept{ID: 42}.String())
	for _, bad := range []string{"", "x", "0", "-3@2026-05-01T10:00:00Z"} {
		require.Equal(t, gitlabdeploy.Kept{}, gitlabdeploy.ParseKept(bad), bad)
	}
}
