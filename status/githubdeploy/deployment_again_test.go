package githubdeploy_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/githubdeploy"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/sinktest"
)

// B's success delivered late, after A's rollback was applied, retires A's
// old deployment then (GitHub's auto_inactive): the rollback is judged
// against A's own outcome, not against that retirement, and deploys A again.
func TestRollbackAfterALateOvertaker(t *testing.T) {
	f, r := setup(t, githubdeploy.Options{})
	fc := testingclock.NewFakeClock(t0)
	f.SetClock(fc.Now)
	first, second := sinktest.Done(shaA, fc.Now()), sinktest.Done(shaB, fc.Now().Add(time.Hour))
	rollback := sinktest.Done(shaA, fc.Now().Add(2*time.Hour))
	fc.Step(2 * time.Minute)
	sinktest.Deliver(t, r, first)
	fc.Step(3 * time.Hour) // the forge was down: B's success goes out after A's rollback applied
	sinktest.Deliver(t, r, second, rollback)
	a := f.Deployments("acme/config", shaA, "")
	require.Len(t, a, 2, "the rollback deploys A again")
	require.Equal(t, []string{"success"}, a[1].States()[len(a[1].States())-1:])
	b := f.Deployments("acme/config", shaB, "")
	require.Equal(t, "inactive", b[0].States()[len(b[0].States())-1], "A is live again")
}

// A report of the attempt A's deployment was made for makes no other
// deployment, whatever its AppliedAt and the agent's clock: posted and then
// replayed by an agent whose clock runs ten minutes ahead of GitHub's, or
// of A's rollout applied again with no rollback (a restore re-stamps its
// AppliedAt).
func TestNoRollbackMakesNoDeployment(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(testing.TB, status.Reporter, *testingclock.FakeClock, string)
	}{
		{"replayed, the agent's clock ahead", func(t testing.TB, r status.Reporter, fc *testingclock.FakeClock, sha string) {
			sinktest.ReplayedAhead(t, r, fc, sha, 10*time.Minute)
		}},
		{"its rollout applied again", sinktest.Restamped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := setup(t, githubdeploy.Options{})
			fc := testingclock.NewFakeClock(t0)
			f.SetClock(fc.Now)
			tc.run(t, r, fc, shaA)
			a := f.Deployments("acme/config", shaA, "")
			require.Len(t, a, 1, "no rollback")
			require.Equal(t, []string{"queued", "in_progress", "success"}, a[0].States())
		})
	}
}

// A deployment its attempt left queued ends when the commit is begun
// again, and the new attempt gets a deployment of its own.
func TestBegunAgainEndsTheUnfinishedDeployment(t *testing.T) {
	f, r := setup(t, githubdeploy.Options{})
	fc := testingclock.NewFakeClock(t0)
	f.SetClock(fc.Now)
	sinktest.BegunAgain(t, r, fc, shaA)
	a := f.Deployments("acme/config", shaA, "")
	require.Len(t, a, 2)
	require.Equal(t, []string{"queued", "inactive"}, a[0].States())
	require.Equal(t, "begun again: a newer deployment follows", a[0].Latest().Description)
	require.False(t, a[0].Latest().AutoInactive)
	require.Equal(t, []string{"queued", "in_progress", "success"}, a[1].States())
}

// Each deployment names in its payload the attempt it was made for.
func TestPayloadNamesTheAttempt(t *testing.T) {
	f, r := setup(t, githubdeploy.Options{})
	sinktest.Deliver(t, r, sinktest.Done(shaA, t0))
	a := f.Deployments("acme/config", shaA, "")
	require.Len(t, a, 1)
	require.JSONEq(t, `{"syncgate":{"begun_at":"2026-05-01T10:00:00Z"}}`, a[0].Payload)
}

// A deployment made before syncgate named its attempt in the payload was
// made for no attempt begun after it was created, read in the agent's
// clock by GitHub's Date: with the agent's clock ten minutes ahead, a
// report of its attempt makes no other, a rollback does.
func TestDeploymentNamingNoAttempt(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	f, r := setup(t, githubdeploy.Options{Options: githubstatus.Options{Clock: ahead{fc, 10 * time.Minute}}})
	f.SetClock(fc.Now)
	begun := fc.Now().Add(10 * time.Minute)
	before := sinktest.Done(shaA, begun)
	before.BegunAt = time.Time{} // recorded before reports named their attempt
	fc.Step(2 * time.Minute)
	sinktest.Deliver(t, r, before)
	require.Empty(t, f.Deployments("acme/config", shaA, "")[0].Payload)
	fc.Step(10 * time.Minute)
	sinktest.Deliver(t, r, sinktest.Done(shaA, begun))
	require.Len(t, f.Deployments("acme/config", shaA, ""), 1, "its own attempt")
	fc.Step(time.Hour)
	sinktest.Deliver(t, r, sinktest.Done(shaA, fc.Now().Add(10*time.Minute)))
	require.Len(t, f.Deployments("acme/config", shaA, ""), 2, "a rollback")
}

// ahead is a clock running ahead of another by a fixed time.
type ahead struct {
	clock.PassiveClock
	by time.Duration
}

func (a ahead) Now() time.Time                  { return a.PassiveClock.Now().Add(a.by) }
func (a ahead) Since(t time.Time) time.Duration { return a.Now().Sub(t) }

// A rollback to a commit whose rollout failed, overtaken by a newer
// commit's success before its own went out, gets a deployment of its own,
// which ends inactive, overtaken; the failed one keeps its failure.
func TestOvertakenRollback(t *testing.T) {
	f, r := setup(t, githubdeploy.Options{})
	fc := testingclock.NewFakeClock(t0)
	f.SetClock(fc.Now)
	sinktest.OvertakenRollback(t, r, fc, shaA, shaB, shaC)
	a := f.Deployments("acme/config", shaA, "")
	require.Len(t, a, 2, "the rollback's own deployment")
	require.Equal(t, []string{"queued", "in_progress", "failure"}, a[0].States())
	require.Equal(t, []string{"queued", "in_progress", "success", "inactive"}, a[1].States())
	require.Contains(t, a[1].Latest().Description, "overtaken by ccccccc")
	require.Equal(t, "success", f.Deployments("acme/config", shaC, "")[0].Latest().State, "C stays live")
}

// A deployment whose first status never posted (a crash, a lost answer)
// ends inactive when the commit is begun again.
func TestBegunAgainEndsADeploymentWithNoStatus(t *testing.T) {
	f, r := setup(t, githubdeploy.Options{})
	fc := testingclock.NewFakeClock(t0)
	f.SetClock(fc.Now)
	f.FailDeploymentStates(1, forge.Fault{Status: 502, Body: `{"message":"Server Error"}`})
	require.Error(t, r.Report(context.Background(), status.Update{SHA: shaA, Namespace: "web", State: status.Applying, BegunAt: fc.Now()}))
	fc.Step(time.Hour)
	sinktest.Deliver(t, r, sinktest.Done(shaA, fc.Now()))
	a := f.Deployments("acme/config", shaA, "")
	require.Len(t, a, 2)
	require.Equal(t, []string{"inactive"}, a[0].States())
	require.Equal(t, []string{"queued", "in_progress", "success"}, a[1].States())
}

// A late report of an attempt earlier than the one the newest deployment
// was made for is not posted on it (TestAgain's "an earlier attempt's
// report"): the rollback's deployment keeps rolling out.
func TestEarlierAttemptsReportLeavesTheNewerDeployment(t *testing.T) {
	f, r := setup(t, githubdeploy.Options{})
	fc := testingclock.NewFakeClock(t0)
	f.SetClock(fc.Now)
	begun := fc.Now()
	sinktest.Deliver(t, r, status.Update{SHA: shaA, State: status.Applying, BegunAt: begun})
	fc.Step(time.Hour)
	sinktest.Deliver(t, r, status.Update{SHA: shaA, State: status.RollingOut, BegunAt: fc.Now(), AppliedAt: fc.Now()})
	sinktest.Deliver(t, r, sinktest.Done(shaA, begun))
	a := f.Deployments("acme/config", shaA, "")
	require.Len(t, a, 2)
	require.Equal(t, []string{"queued", "inactive"}, a[0].States())
	require.Equal(t, []string{"queued", "in_progress"}, a[1].States(), "the newer attempt's")
}
