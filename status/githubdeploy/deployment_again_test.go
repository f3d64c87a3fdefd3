package githubdeploy_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/githubdeploy"
	"github.com/syncgate/syncgate/testing/sinktest"
)

// B's success delivered late, after A's rollback was applied, retires A's
// old deployment then (GitHub's auto_inactive): the rollback is judged
// against A's own outcome, not against that retirement, and deploys A again.
func TestRollbackAfterALateOvertaker(t *testing.T) {
	f, r := setup(t, githubdeploy.Options{})
	fc := testingclock.NewFakeClock(t0)
	f.SetClock(fc.Now)
	done := func(sha string, at time.Time) status.Update {
		return status.Update{SHA: sha, State: status.Deployed, AppliedAt: at, FinishedAt: at.Add(time.Minute)}
	}
	first, second := done(shaA, fc.Now()), done(shaB, fc.Now().Add(time.Hour))
	rollback := done(shaA, fc.Now().Add(2*time.Hour))
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
