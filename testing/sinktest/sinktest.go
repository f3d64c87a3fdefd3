// Package sinktest drives a status sink the way the outbox does, for the
// sinks' own tests: every report delivered twice, and a failure read as
// the outbox reads it.
package sinktest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/testing/forge"
)

// Deliver reports each update to r twice, as a replay after a crash would;
// an update with no namespace is for "web".
func Deliver(t testing.TB, r status.Reporter, us ...status.Update) {
	t.Helper()
	for _, u := range us {
		if u.Namespace == "" {
			u.Namespace = "web"
		}
		require.NoError(t, r.Report(context.Background(), u))
		require.NoError(t, r.Report(context.Background(), u), "replay")
	}
}

// DeliverKept reports each update to k twice, as Deliver does, handing
// each report the reference kept from the one before (ref to begin with),
// as the outbox does, and returns the reference kept at the last.
func DeliverKept(t testing.TB, k status.Keeper, ref string, us ...status.Update) string {
	t.Helper()
	for _, u := range us {
		if u.Namespace == "" {
			u.Namespace = "web"
		}
		for range 2 {
			u.Ref = ref
			got, err := k.ReportKept(context.Background(), u)
			require.NoError(t, err)
			if got != "" {
				ref = got
			}
		}
	}
	return ref
}

// Done is the deployed report of sha's attempt begun at begun, in the
// agent's clock: applied five seconds later, deployed a minute after.
func Done(sha string, begun time.Time) status.Update {
	applied := begun.Add(5 * time.Second)
	return status.Update{SHA: sha, State: status.Deployed, BegunAt: begun, AppliedAt: applied, FinishedAt: applied.Add(time.Minute)}
}

// MergedRollback delivers to r, the deployment sink of a forge whose clock
// is fc, commit a deployed, b deployed an hour later, and a rollback to a
// an hour after that whose applying and rolling-out reports were replaced
// by its deployed one before they were delivered (the outbox keeps only a
// commit's newest report); then a's and b's first reports once more.
func MergedRollback(t testing.TB, r status.Reporter, fc *testingclock.FakeClock, a, b string) {
	t.Helper()
	first, second := Done(a, fc.Now()), Done(b, fc.Now().Add(time.Hour))
	rollback := Done(a, fc.Now().Add(2*time.Hour))
	fc.Step(2 * time.Minute)
	Deliver(t, r, first)
	fc.Step(time.Hour)
	Deliver(t, r, second)
	fc.Step(time.Hour)
	Deliver(t, r, rollback, first, second)
}

// ReplayedAhead delivers to r, the deployment sink of a forge whose clock
// is fc, commit a deployed by an agent whose clock runs ahead of the
// forge's by ahead (r must read the agent's clock so), then the same
// report again ten minutes later, as a restart replays a report whose
// delivery it did not record.
func ReplayedAhead(t testing.TB, r status.Reporter, fc *testingclock.FakeClock, a string, ahead time.Duration) {
	t.Helper()
	u := Done(a, fc.Now().Add(ahead))
	fc.Step(2 * time.Minute)
	Deliver(t, r, u)
	fc.Step(10 * time.Minute)
	Deliver(t, r, u)
}

// Restamped delivers to r, the deployment sink of a forge whose clock is
// fc, commit a deployed, then half an hour later a report of the same
// attempt whose rollout was applied again (a restore): its AppliedAt and
// FinishedAt are new, the attempt is not. No other commit came between.
func Restamped(t testing.TB, r status.Reporter, fc *testingclock.FakeClock, a string) {
	t.Helper()
	u := Done(a, fc.Now())
	fc.Step(2 * time.Minute)
	Deliver(t, r, u)
	fc.Step(30 * time.Minute)
	again := u
	again.AppliedAt, again.FinishedAt = fc.Now(), fc.Now().Add(time.Minute)
	fc.Step(2 * time.Minute)
	Deliver(t, r, again)
}

// BegunAgain delivers to r, the deployment sink of a forge whose clock is
// fc, the applying report of commit a's attempt, then the deployed report
// of an attempt at a begun an hour later (the first was superseded before
// it applied, and the branch forced back to a), its earlier reports
// replaced by it before they went out. (The outbox records a commit's
// reports in order, each replacing the one before that is still owed, so
// no report of the first attempt comes after.)
func BegunAgain(t testing.TB, r status.Reporter, fc *testingclock.FakeClock, a string) {
	t.Helper()
	first := status.Update{SHA: a, State: status.Applying, BegunAt: fc.Now()}
	second := Done(a, fc.Now().Add(time.Hour))
	fc.Step(time.Minute)
	Deliver(t, r, first)
	fc.Step(time.Hour)
	Deliver(t, r, second)
}

// OvertakenRollback delivers to r, the deployment sink of a forge whose
// clock is fc, commit a failed in its rollout, b deployed an hour later,
// then a rollback to a an hour after that which deployed, and c, which
// deployed after it but whose success went out first: the rollback's
// report, delivered last, is overtaken by c.
func OvertakenRollback(t testing.TB, r status.Reporter, fc *testingclock.FakeClock, a, b, c string) {
	t.Helper()
	failed := Done(a, fc.Now())
	failed.State, failed.Reason = status.Failed, "Deployment web: CrashLoopBackOff"
	second := Done(b, fc.Now().Add(time.Hour))
	rollback := Done(a, fc.Now().Add(2*time.Hour))
	rollback.OvertakenBy = c
	last := Done(c, fc.Now().Add(2*time.Hour+10*time.Minute))
	fc.Step(2 * time.Minute)
	Deliver(t, r, failed)
	fc.Step(time.Hour)
	Deliver(t, r, second)
	fc.Step(time.Hour + 15*time.Minute)
	Deliver(t, r, last, rollback)
}

// Answer is how the outbox should read a sink's failure.
type Answer struct {
	// Permanent: refused for good, reported once.
	Permanent bool
	// After is the delay the forge asked for; zero when it asked none.
	After time.Duration
	// Contains are words the error must carry; empty for any.
	Contains string
}

// Require fails t unless err is a failure the outbox reads as a.
func (a Answer) Require(t testing.TB, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, a.Permanent, status.IsPermanent(err), "permanent: %v", err)
	d, ok := status.RetryAfterOf(err)
	require.Equal(t, a.After > 0, ok, "a delay asked for: %v", err)
	require.Equal(t, a.After, d)
	if a.Contains != "" {
		require.Contains(t, err.Error(), a.Contains)
	}
}

// Faulter is a forge fake that can give the next answers as faults.
type Faulter interface {
	FailNext(n int, fault forge.Fault)
}

// Case is one forge answer a sink must read right.
type Case struct {
	Name  string
	Fault forge.Fault
	Want  Answer
}

// Recovers runs each case on a sink of its own from setup: the forge gives
// the fault once, the report of u fails as the case wants, and the next
// report of u passes; then check looks at what the forge holds.
func Recovers(t *testing.T, u status.Update, cases []Case, setup func(t *testing.T) (Faulter, status.Reporter), check func(t *testing.T)) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			f, r := setup(t)
			f.FailNext(1, tc.Fault)
			tc.Want.Require(t, r.Report(context.Background(), u))
			require.NoError(t, r.Report(context.Background(), u), "delivered once the forge recovers")
			check(t)
		})
	}
}
