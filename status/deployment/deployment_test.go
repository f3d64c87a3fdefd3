package deployment_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/deployment"
)

const carrier = "abc1234def5678abc1234def5678abc1234def56"

func TestNext(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	deployedBy := status.Update{State: status.Superseded, Outcome: status.Deployed, CarriedBy: carrier, AppliedAt: at, FinishedAt: at.Add(42 * time.Second)}
	failedIn := status.Update{State: status.Superseded, Outcome: status.Failed, CarriedBy: carrier, Reason: "ImagePullBackOff"}
	overtaken := status.Update{State: status.Deployed, OvertakenBy: carrier, AppliedAt: at, FinishedAt: at.Add(42 * time.Second)}
	for _, tc := range []struct {
		name   string
		u      status.Update
		now    deployment.Phase
		retire bool
		want   deployment.Step
		skip   bool
	}{
		{name: "applying creates a queued deployment", u: status.Update{State: status.Applying}, want: deployment.Step{Phase: deployment.Queued, Description: "applying"}},
		{name: "rolling out", u: status.Update{State: status.RollingOut, Ready: 1, Total: 3}, now: deployment.Queued,
			want: deployment.Step{Phase: deployment.Running, Description: "rolling out (1/3 ready)"}},
		{name: "progress within the same phase is not posted", u: status.Update{State: status.RollingOut, Ready: 2, Total: 3}, now: deployment.Running, skip: true},
		{name: "deployed", u: status.Update{State: status.Deployed, AppliedAt: at, FinishedAt: at.Add(42 * time.Second)}, now: deployment.Running,
			want: deployment.Step{Phase: deployment.Succeeded, Description: "deployed in 42s"}},
		{name: "a replay after a newer deployment took over", u: status.Update{State: status.Deployed}, now: deployment.Inactive, skip: true},
		{name: "a replay of the final report", u: status.Update{State: status.Failed, Reason: "x"}, now: deployment.Failed, skip: true},
		{name: "failed before any deployment", u: status.Update{State: status.Failed, Reason: "invalid YAML"},
			want: deployment.Step{Phase: deployment.Failed, Description: "invalid YAML"}},
		{name: "a rollback deploys the same commit again", u: status.Update{State: status.Applying}, now: deployment.Succeeded,
			want: deployment.Step{Phase: deployment.Queued, Description: "applying"}},
		{name: "batched: the carrier's success takes no environment from it (GitLab canceled)", u: deployedBy,
			want: deployment.Step{Phase: deployment.Inactive, Description: "deployed by abc1234, which holds the environment", Carried: true}},
		{name: "batched: the carrier's failure", u: failedIn,
			want: deployment.Step{Phase: deployment.Failed, Description: "failed in abc1234: ImagePullBackOff", Carried: true}},
		{name: "superseded while rolling out: the carrier's success, no environment", u: deployedBy, now: deployment.Running,
			want: deployment.Step{Phase: deployment.Inactive, Description: "deployed by abc1234, which holds the environment", Carried: true}},
		{name: "superseded while rolling out: the carrier's failure", u: failedIn, now: deployment.Running,
			want: deployment.Step{Phase: deployment.Failed, Description: "failed in abc1234: ImagePullBackOff", Carried: true}},
		{name: "superseded before it applied: inactive", u: deployedBy, now: deployment.Queued,
			want: deployment.Step{Phase: deployment.Inactive, Description: "superseded by abc1234 before it applied", Carried: true}},
		{name: "superseded before it applied, carrier failed: inactive too", u: failedIn, now: deployment.Queued,
			want: deployment.Step{Phase: deployment.Inactive, Description: "superseded by abc1234 before it applied", Carried: true}},
		{name: "inactive stays inactive on replay", u: deployedBy, now: deployment.Inactive, skip: true},
		{name: "retiring: a carried success is then made inactive", u: deployedBy, retire: true,
			want: deployment.Step{Phase: deployment.Succeeded, Description: "deployed by abc1234 in 42s", Carried: true, Retire: true}},
		{name: "retiring: the inactive status a crash cut off", u: deployedBy, now: deployment.Succeeded, retire: true,
			want: deployment.Step{Phase: deployment.Inactive, Description: "deployed by abc1234, which holds the environment", Carried: true}},
		{name: "retiring: done", u: deployedBy, now: deployment.Inactive, retire: true, skip: true},
		{name: "retiring: superseded before it applied", u: deployedBy, now: deployment.Queued, retire: true,
			want: deployment.Step{Phase: deployment.Inactive, Description: "superseded by abc1234 before it applied", Carried: true}},
		{name: "retiring: a carried failure stays", u: failedIn, retire: true,
			want: deployment.Step{Phase: deployment.Failed, Description: "failed in abc1234: ImagePullBackOff", Carried: true}},
		{name: "retiring: an overtaken success retires none, then is made inactive", u: overtaken, now: deployment.Running, retire: true,
			want: deployment.Step{Phase: deployment.Succeeded, Description: "deployed in 42s", Carried: true, Retire: true}},
		{name: "retiring: the inactive status a crash cut off an overtaken success", u: overtaken, now: deployment.Succeeded, retire: true,
			want: deployment.Step{Phase: deployment.Inactive, Description: "overtaken by abc1234, which holds the environment", Carried: true}},
		{name: "retiring: an overtaken success done", u: overtaken, now: deployment.Inactive, retire: true, skip: true},
		{name: "an overtaken success does not succeed (GitLab canceled)", u: overtaken, now: deployment.Running,
			want: deployment.Step{Phase: deployment.Inactive, Description: "overtaken by abc1234, which holds the environment", Carried: true}},
		{name: "an overtaken success shown successful gives the environment back", u: overtaken, now: deployment.Succeeded,
			want: deployment.Step{Phase: deployment.Inactive, Description: "overtaken by abc1234, which holds the environment", Carried: true}},
		{name: "an overtaken success done", u: overtaken, now: deployment.Inactive, skip: true},
		{name: "held until the carrier's outcome", u: status.Update{State: status.Superseded, CarriedBy: carrier}, now: deployment.Queued, skip: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := deployment.Next(tc.u, tc.now, tc.retire)
			require.Equal(t, !tc.skip, ok)
			if !tc.skip {
				require.Equal(t, tc.want, got)
			}
		})
	}
}

// TestThrough: the phases the forge has not shown yet come before a
// report that skipped them, because only a commit's latest report is
// kept until it is delivered.
func TestThrough(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	phases := func(steps []deployment.Step) []deployment.Phase {
		var out []deployment.Phase
		for _, s := range steps {
			out = append(out, s.Phase)
		}
		return out
	}
	rolling := status.Update{State: status.RollingOut, Ready: 1, Total: 3, AppliedAt: at}
	deployed := status.Update{State: status.Deployed, AppliedAt: at, FinishedAt: at.Add(time.Second)}
	require.Equal(t, []deployment.Phase{deployment.Queued}, phases(deployment.Through(rolling, deployment.None)),
		"rolling out before the queued report was delivered")
	require.Empty(t, deployment.Through(rolling, deployment.Queued))
	require.Equal(t, []deployment.Phase{deployment.Queued, deployment.Running}, phases(deployment.Through(deployed, deployment.None)))
	require.Equal(t, []deployment.Phase{deployment.Running}, phases(deployment.Through(deployed, deployment.Queued)))
	require.Empty(t, deployment.Through(deployed, deployment.Running))
	require.Empty(t, deployment.Through(status.Update{State: status.Failed, Reason: "invalid YAML"}, deployment.None),
		"refused before it applied: straight to its outcome")
	rollback := status.Update{State: status.Failed, Reason: "invalid YAML", BegunAt: at.Add(time.Hour), AppliedAt: at, FinishedAt: at.Add(time.Hour)}
	require.Empty(t, deployment.Through(rollback, deployment.None),
		"a rollback refused before it applied: the AppliedAt is the rollout's before")
	rollback.AppliedAt = rollback.BegunAt.Add(time.Second)
	require.Len(t, deployment.Through(rollback, deployment.None), 2, "a rollback that failed in its rollout ran")
}

// TestAgain: a commit's own report of an attempt begun after the one its
// deployment was made for deploys it again; any report of that attempt,
// however late and whatever its AppliedAt, does not.
func TestAgain(t *testing.T) {
	made := time.Date(2026, 5, 1, 10, 2, 0, 0, time.UTC) // the attempt's begin, in the agent's clock
	own := func(st status.State, begun time.Time) status.Update {
		return status.Update{State: st, BegunAt: begun, AppliedAt: begun.Add(time.Second), FinishedAt: begun.Add(time.Minute)}
	}
	later := made.Add(time.Hour)
	restamped := own(status.Deployed, made)
	restamped.AppliedAt, restamped.FinishedAt = later, later.Add(time.Minute)
	for _, tc := range []struct {
		name string
		u    status.Update
		made time.Time
		want bool
	}{
		{"a rollback deployed", own(status.Deployed, later), made, true},
		{"a rollback that failed", own(status.Failed, later), made, true},
		{"a rollback rolling out", own(status.RollingOut, later), made, true},
		{"a rollback applying", own(status.Applying, later), made, true},
		{"a rollback refused before it applied", status.Update{State: status.Failed, Reason: "invalid YAML", BegunAt: later}, made, true},
		{"a replay of the attempt's report", own(status.Deployed, made), made, false},
		{"within the second the attempt began", own(status.Deployed, made.Add(300*time.Millisecond)), made, false},
		{"the attempt's rollout applied again, AppliedAt re-stamped", restamped, made, false},
		{"an earlier attempt's report", own(status.Deployed, made.Add(-time.Hour)), made, false},
		{"carried", status.Update{State: status.Superseded, Outcome: status.Deployed, CarriedBy: carrier, BegunAt: later}, made, false},
		{"the deployment does not say its attempt", own(status.Deployed, later), time.Time{}, false},
		{"the report does not say its attempt", status.Update{State: status.Deployed, AppliedAt: later}, made, false},
		{"a success overtaken, replayed before it gave way", func() status.Update {
			u := own(status.Deployed, made)
			u.OvertakenBy = carrier
			return u
		}(), made, false},
		{"a rollback overtaken", func() status.Update {
			u := own(status.Deployed, later)
			u.OvertakenBy = carrier
			return u
		}(), made, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, deployment.Again(tc.u, tc.made))
		})
	}
}

// TestEarlier: a report of an attempt begun before the one a deployment
// names is not posted on it; the attempt's own reports and a rollback's are.
func TestEarlier(t *testing.T) {
	attempt := time.Date(2026, 5, 1, 10, 2, 0, 0, time.UTC)
	begun := func(at time.Time) status.Update { return status.Update{State: status.Deployed, BegunAt: at} }
	require.True(t, deployment.Earlier(begun(attempt.Add(-time.Hour)), attempt), "an earlier attempt's report")
	require.False(t, deployment.Earlier(begun(attempt.Add(300*time.Millisecond)), attempt), "the attempt's own")
	require.False(t, deployment.Earlier(begun(attempt.Add(time.Hour)), attempt), "a rollback's")
	require.False(t, deployment.Earlier(begun(time.Time{}), attempt), "the report names no attempt")
	require.False(t, deployment.Earlier(begun(attempt.Add(-time.Hour)), time.Time{}), "the deployment names none")
}

// TestCreated: a deployment's creation time, by the forge's clock, read in
// the agent's by the Date of the answer that gave it.
func TestCreated(t *testing.T) {
	created := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	date := "Fri, 01 May 2026 10:05:00 GMT" // the forge's time as it answered
	ahead := time.Date(2026, 5, 1, 10, 15, 0, 0, time.UTC)
	require.Equal(t, created.Add(10*time.Minute), deployment.Created(created, date, ahead), "the agent's clock ten minutes ahead")
	require.Equal(t, created.Add(-time.Minute), deployment.Created(created, date, ahead.Add(-11*time.Minute)), "a minute behind")
	require.True(t, deployment.Created(created, "", ahead).IsZero(), "no Date: unknown, not the forge's time")
	require.True(t, deployment.Created(created, "yesterday", ahead).IsZero(), "a Date that does not parse")
	require.True(t, deployment.Created(time.Time{}, date, ahead).IsZero(), "unknown")
}
