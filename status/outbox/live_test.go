package outbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/deployment"
	"github.com/syncgate/syncgate/status/githubdeploy"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/status/gitlabdeploy"
	"github.com/syncgate/syncgate/status/gitlabstatus"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/forge"
)

// liveSink is a deployment sink: its reports say which commit is live in
// the namespace's environment, so a success posted for a commit retires
// the environment's earlier deployments (GitHub auto_inactive; GitLab
// shows the deployment that succeeded last).
type liveSink struct{ *sink }

// refusedEarlier records us in the ledger as reports of sink an earlier
// process had refused for good.
func refusedEarlier(t *testing.T, l *ledger, sink string, us ...status.Update) {
	t.Helper()
	l.record(t, "web", []string{sink}, us...)
	require.NoError(t, l.Update(context.Background(), "web", func(st *version.VersionStatus) error {
		for i := range st.Owed {
			st.Owed[i].Permanent = true
		}
		return nil
	}))
}

func posted(s *sink) []string {
	var got []string
	for _, c := range s.got() {
		p := c.u.SHA[:7] + " " + string(c.u.State)
		if c.u.OvertakenBy != "" {
			p += " overtaken by " + c.u.OvertakenBy[:7]
		}
		got = append(got, p)
	}
	return got
}

// Commit A's deployed report was refused (GitHub 422: the commit is not
// pushed yet), then B deployed. Once B's deployed report is delivered, A's
// success, posted after it as it is, would take the environment from B,
// which runs; dropped, it would leave A's deployment unfinished. Every sink
// posts it, since it is true of A, marked overtaken by B so that a sink
// that shows the live commit leaves B live.
func TestAnOlderCommitsRefusedOutcomeDoesNotRetireTheLiveOne(t *testing.T) {
	refusal := status.Permanent(errors.New("GitHub refused the deployment of aaaaaaa in acme/app (is the commit pushed there?)"))
	for _, tc := range []struct {
		name string
		wrap func(*sink) status.Reporter
		want []string
		owed []owedRow
	}{
		{"deployments", func(s *sink) status.Reporter { return liveSink{s} },
			[]string{"aaaaaaa deployed", "bbbbbbb deployed", "aaaaaaa deployed overtaken by bbbbbbb"}, []owedRow{}},
		{"deployments while the token may", func(s *sink) status.Reporter {
			return deployment.NewOptional(liveSink{s}, func(error) bool { return false })
		}, []string{"aaaaaaa deployed", "bbbbbbb deployed", "aaaaaaa deployed overtaken by bbbbbbb"}, []owedRow{}},
		{"commit statuses", func(s *sink) status.Reporter { return s },
			[]string{"aaaaaaa deployed", "bbbbbbb deployed", "aaaaaaa deployed overtaken by bbbbbbb"}, []owedRow{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := testingclock.NewFakeClock(t0)
			l := newLedger("web")
			s := &sink{name: "deployments", clock: fc}
			s.then(refusal) // once; the rest are accepted
			refusedEarlier(t, l, s.name, status.Update{SHA: shaA, State: status.Deployed})
			l.record(t, "web", []string{s.name}, status.Update{SHA: shaB, State: status.Deployed})

			d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{tc.wrap(s)}, Clock: fc})
			idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
			d.Kick()
			fc.Step(10 * time.Minute)
			idle(t, fc, func() bool { return true })

			require.Equal(t, tc.want, posted(s))
			require.Equal(t, tc.owed, rows(l.owed("web")))
		})
	}
}

// Only an older commit's own success would take the environment from the
// live one. Its failure, or its success carried by a later commit, is the
// truth about it and takes no environment; a report for another cluster
// speaks of another environment; and a delivered report that is not a
// success itself takes the environment from no one. All of those are
// posted as they are once the sink accepts B's report; an older success
// is posted marked overtaken by B.
func TestOnlyAnOlderSuccessGivesWayToTheLiveOne(t *testing.T) {
	refusal := status.Permanent(errors.New("GitHub refused the deployment of aaaaaaa in acme/app (is the commit pushed there?)"))
	const shaC = "ccccccc0123456789abcdef0123456789abcdef0"
	prod := func(sha string, s status.State) status.Update {
		return status.Update{Cluster: "prod", SHA: sha, State: s}
	}
	for _, tc := range []struct {
		name  string
		older status.Update
		newer status.Update
		want  []string
	}{
		{"an older failure", prod(shaA, status.Failed), prod(shaB, status.Deployed),
			[]string{"aaaaaaa failed", "bbbbbbb deployed", "aaaaaaa failed"}},
		{"an older carried success", status.Update{Cluster: "prod", SHA: shaA, State: status.Superseded, CarriedBy: shaC, Outcome: status.Deployed},
			prod(shaB, status.Deployed), []string{"aaaaaaa superseded", "bbbbbbb deployed", "aaaaaaa superseded"}},
		{"another cluster's success", status.Update{Cluster: "east", SHA: shaA, State: status.Deployed}, prod(shaB, status.Deployed),
			[]string{"aaaaaaa deployed", "bbbbbbb deployed", "aaaaaaa deployed"}},
		{"a newer failure", prod(shaA, status.Deployed), prod(shaB, status.Failed),
			[]string{"aaaaaaa deployed", "bbbbbbb failed", "aaaaaaa deployed"}},
		{"a newer carried success", prod(shaA, status.Deployed), status.Update{Cluster: "prod", SHA: shaB, State: status.Superseded, CarriedBy: shaC, Outcome: status.Deployed},
			[]string{"aaaaaaa deployed", "bbbbbbb superseded", "aaaaaaa deployed"}},
		{"an older success", prod(shaA, status.Deployed), prod(shaB, status.Deployed),
			[]string{"aaaaaaa deployed", "bbbbbbb deployed", "aaaaaaa deployed overtaken by bbbbbbb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := testingclock.NewFakeClock(t0)
			l := newLedger("web")
			s := &sink{name: "deployments", clock: fc}
			s.then(refusal) // once; the rest are accepted
			refusedEarlier(t, l, s.name, tc.older)
			l.record(t, "web", []string{s.name}, tc.newer)

			d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{liveSink{s}}, Clock: fc})
			idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
			d.Kick()
			fc.Step(10 * time.Minute)
			idle(t, fc, func() bool { return true })

			require.Equal(t, tc.want, posted(s))
		})
	}
}

// Newer follows the order the lifecycle recorded: B deployed, then a
// rollback deployed A, whose report was refused. B's report, delivered
// late, leaves A's in place, and A's success goes out after it: A is live.
func TestARefusedOutcomeRecordedLaterStays(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	s := &sink{name: "deployments", clock: fc}
	l.record(t, "web", []string{s.name}, status.Update{SHA: shaB, State: status.Deployed})
	refusedEarlier(t, l, s.name, status.Update{SHA: shaA, State: status.Deployed})
	require.Equal(t, []owedRow{{s.name, shaB, status.Deployed, true}, {s.name, shaA, status.Deployed, true}}, rows(l.owed("web")))

	start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{liveSink{s}}, Clock: fc})
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
	require.Equal(t, []string{"bbbbbbb deployed", "aaaaaaa deployed"}, posted(s))
}

// A rolled back to: A's deployed report, still owed when the rollback
// recorded A deployed again, is newer than B's from then on. The sink
// refuses the first report it gets; whichever of B's and the rollback's
// it is, the other, delivered after it, must leave A live: B's success,
// when it was the one refused, goes out overtaken by A's.
func TestARollbacksReportIsNewerThanTheOneItReplaced(t *testing.T) {
	refusal := status.Permanent(errors.New("GitHub refused the deployment of bbbbbbb in acme/app (is the commit pushed there?)"))
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	s := &sink{name: "deployments", clock: fc}
	s.then(refusal)
	done := func(sha string, at time.Time) status.Update {
		return status.Update{Cluster: "prod", SHA: sha, State: status.Deployed, AppliedAt: at, FinishedAt: at.Add(time.Minute)}
	}
	l.record(t, "web", []string{s.name}, done(shaA, t0), done(shaB, t0.Add(time.Hour)))
	l.record(t, "web", []string{s.name}, done(shaA, t0.Add(2*time.Hour))) // the rollback
	require.Equal(t, []owedRow{{s.name, shaB, status.Deployed, false}, {s.name, shaA, status.Deployed, false}}, rows(l.owed("web")))

	start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{liveSink{s}}, Clock: fc})
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
	require.Equal(t, []string{"bbbbbbb deployed", "aaaaaaa deployed", "bbbbbbb deployed overtaken by aaaaaaa"}, posted(s),
		"B refused, then A's rollback goes out and stays live; B's success gives way to it")
}

// refuseFirst is a forge's deployment sink that refuses the first report
// of one commit (in state, when set), as GitHub does a deployment of a
// commit not pushed yet.
type refuseFirst struct {
	status.Reporter
	sha     string
	state   status.State
	refused bool
}

func (r *refuseFirst) Report(ctx context.Context, u status.Update) error {
	if u.SHA == r.sha && (r.state == "" || u.State == r.state) && !r.refused {
		r.refused = true
		return status.Permanent(errors.New("GitHub refused the deployment of aaaaaaa in acme/config (is the commit pushed there?)"))
	}
	return r.Reporter.Report(ctx, u)
}

// deployForge is a forge fake's side of its deployment sink.
type deployForge interface {
	Deployments(repo, sha, environment string) []forge.Deployment
	SetClock(now func() time.Time)
}

// deployForges start each forge's fake and deployment sink for
// environment prod/<namespace> of its config repo, named as the fake
// names it.
var deployForges = []struct {
	name  string
	start func(t *testing.T) (status.Reporter, deployForge, string)
}{
	{"github", func(t *testing.T) (status.Reporter, deployForge, string) {
		f := forge.NewGitHub("ghp_good", "acme/config")
		t.Cleanup(f.Close)
		c, err := githubstatus.NewTokenClient(f.APIURL(), "ghp_good")
		require.NoError(t, err)
		r, err := githubdeploy.New(githubdeploy.Options{Options: githubstatus.Options{Client: c, Owner: "acme", Repo: "config", Cluster: "prod"}})
		require.NoError(t, err)
		return r, f, "acme/config"
	}},
	{"gitlab", func(t *testing.T) (status.Reporter, deployForge, string) {
		f := forge.NewGitLab("glpat-good", "platform/config")
		t.Cleanup(f.Close)
		c, err := gitlabstatus.NewClient(f.URL(), "glpat-good")
		require.NoError(t, err)
		r, err := gitlabdeploy.New(gitlabdeploy.Options{Client: c, Project: "platform/config", Cluster: "prod", Now: f.Now})
		require.NoError(t, err)
		return r, f, "platform/config"
	}},
}

// On the forges' own deployment sinks, B stays the environment's live
// deployment and A's refused success, posted after B's, gives way to it.
func TestTheLiveDeploymentStaysOnTheForges(t *testing.T) {
	for _, tc := range deployForges {
		t.Run(tc.name, func(t *testing.T) {
			fc := testingclock.NewFakeClock(t0)
			r, f, repo := tc.start(t)
			l := newLedger("web")
			done := func(sha string) status.Update {
				return status.Update{Cluster: "prod", SHA: sha, State: status.Deployed, AppliedAt: t0, FinishedAt: t0.Add(time.Minute)}
			}
			refusedEarlier(t, l, r.Name(), done(shaA))
			l.record(t, "web", []string{r.Name()}, done(shaB))

			d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{&refuseFirst{Reporter: r, sha: shaA}}, Clock: fc})
			idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
			d.Kick()
			fc.Step(10 * time.Minute)
			idle(t, fc, func() bool { return true })

			requireGaveWay(t, f, repo)
		})
	}
}

// requireGaveWay checks that A's deployment of prod/web ended given way to
// B's (inactive on GitHub, canceled on GitLab) and that B's is still the
// environment's success.
func requireGaveWay(t *testing.T, f deployForge, repo string) {
	t.Helper()
	a := f.Deployments(repo, shaA, "prod/web")
	require.Len(t, a, 1)
	require.Contains(t, []string{"inactive", "canceled"}, a[0].Latest().State, "A's deployment ends: %v", a[0].States())
	b := f.Deployments(repo, shaB, "prod/web")
	require.Len(t, b, 1)
	require.Equal(t, "success", b[0].Latest().State, "B's deployment: %v", b[0].States())
}

// prodReport is sha's report in state for cluster prod, of the attempt
// begun and applied at applied; a success finished a minute later.
func prodReport(sha string, st status.State, applied time.Time) status.Update {
	u := status.Update{Cluster: "prod", SHA: sha, State: st, BegunAt: applied, AppliedAt: applied}
	if st == status.Deployed {
		u.FinishedAt = applied.Add(time.Minute)
	}
	return u
}

// A's deployment was queued and ran; its success was refused once, then
// B's success was delivered. A's final report still goes out and ends
// A's deployment, given way to B, instead of leaving it running for ever.
func TestAnOvertakenDeploymentEndsOnTheForges(t *testing.T) {
	for _, tc := range deployForges {
		t.Run(tc.name, func(t *testing.T) {
			fc := testingclock.NewFakeClock(t0)
			r, f, repo := tc.start(t)
			f.SetClock(fc.Now)
			l := newLedger("web")
			l.record(t, "web", []string{r.Name()}, prodReport(shaA, status.RollingOut, t0))
			d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{&refuseFirst{Reporter: r, sha: shaA, state: status.Deployed}}, Clock: fc})
			idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
			a := f.Deployments(repo, shaA, "prod/web")
			require.Len(t, a, 1)
			require.Contains(t, []string{"in_progress", "running"}, a[0].Latest().State)

			l.record(t, "web", []string{r.Name()}, prodReport(shaA, status.Deployed, t0))
			d.Kick()
			idle(t, fc, func() bool { o := l.owed("web"); return len(o) == 1 && o[0].Permanent }, "A's success refused")
			fc.Step(time.Hour)
			l.record(t, "web", []string{r.Name()}, prodReport(shaB, status.Deployed, t0.Add(time.Hour)))
			d.Kick()
			idle(t, fc, func() bool { return len(l.owed("web")) == 0 })

			requireGaveWay(t, f, repo)
		})
	}
}

// A rollback A→B→A recorded while the sink could not be reached (its
// applying and rolling-out reports replaced by its deployed one before they
// were delivered) makes A the environment's live deployment again on both
// forges: a new deployment of A, newer than B's.
func TestAMergedRollbackIsLiveOnTheForges(t *testing.T) {
	for _, tc := range deployForges {
		t.Run(tc.name, func(t *testing.T) {
			fc := testingclock.NewFakeClock(t0)
			r, f, repo := tc.start(t)
			f.SetClock(fc.Now)
			l := newLedger("web")
			l.record(t, "web", []string{r.Name()}, prodReport(shaA, status.Deployed, t0))
			d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{r}, Clock: fc})
			idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
			fc.Step(time.Hour)
			l.record(t, "web", []string{r.Name()}, prodReport(shaB, status.Deployed, t0.Add(time.Hour)))
			d.Kick()
			idle(t, fc, func() bool { return len(l.owed("web")) == 0 })

			// Recorded and counted while the deliverer is parked on the
			// clock: the step wakes it, and a pass begun by the step could
			// deliver the report before it was counted.
			rollback := t0.Add(2 * time.Hour)
			l.record(t, "web", []string{r.Name()}, prodReport(shaA, status.Applying, time.Time{}),
				prodReport(shaA, status.RollingOut, rollback), prodReport(shaA, status.Deployed, rollback))
			require.Len(t, l.owed("web"), 1, "one report of A's rollback owed")
			fc.Step(time.Hour)
			d.Kick()
			idle(t, fc, func() bool { return len(l.owed("web")) == 0 })

			a := f.Deployments(repo, shaA, "prod/web")
			require.Len(t, a, 2, "the rollback deploys A again")
			require.Equal(t, "success", a[1].Latest().State)
			require.Greater(t, a[1].ID, f.Deployments(repo, shaB, "prod/web")[0].ID, "A's is the newest success")
		})
	}
}
