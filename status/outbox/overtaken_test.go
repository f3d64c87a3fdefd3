package outbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/githubdeploy"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/status/gitlabdeploy"
	"github.com/syncgate/syncgate/status/gitlabstatus"
	"github.com/syncgate/syncgate/status/origin"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/testing/forge"
)

const (
	appX = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // the application commit A deploys
	appY = "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" // the one B deploys
)

// currentOnGitLab is the deployment GitLab shows as the environment's
// current one: the one that succeeded last.
func currentOnGitLab(ds []forge.Deployment) string {
	sha, at := "", int64(0)
	for _, d := range ds {
		if s := d.Latest(); s.State == "success" && s.ID > at {
			sha, at = d.SHA, s.ID
		}
	}
	return sha
}

// The origin sink reports each config commit on the application commits it
// names: commit statuses, true of each commit, must all be posted. A's own
// success, refused once and posted after B's, is still posted as a commit
// status, but must not take the application's environment from B, which
// runs: on GitHub A's deployment ends inactive (overtaken by B), on GitLab
// it does not succeed after B's.
func TestAnOlderSuccessOnTheApplicationCommitLeavesTheEnvironmentToTheNewer(t *testing.T) {
	type fake interface {
		Deployments(repo, sha, environment string) []forge.Deployment
		Statuses(repo, sha string) []forge.Status
	}
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) (origin.Forge, fake)
		check func(t *testing.T, a, b []forge.Deployment, env []forge.Deployment)
	}{
		{"github", func(t *testing.T) (origin.Forge, fake) {
			f := forge.NewGitHub("ghp_good", "acme/app", "acme/other")
			t.Cleanup(f.Close)
			c, err := githubstatus.NewTokenClient(f.APIURL(), "ghp_good")
			require.NoError(t, err)
			opts := githubstatus.Options{Client: c, Owner: "acme", Repo: "app", Cluster: "prod"}
			return origin.Forge{Name: "GitHub", Hosts: []string{""}, Post: func(ctx context.Context, project, sha string, u status.Update) error {
				opts.Repo = strings.TrimPrefix(project, "acme/")
				st, err := githubstatus.New(opts)
				require.NoError(t, err)
				dep, err := githubdeploy.New(githubdeploy.Options{Options: opts})
				require.NoError(t, err)
				if err := st.ReportOn(ctx, sha, u); err != nil {
					return err
				}
				return dep.ReportOn(ctx, sha, u)
			}}, f
		}, func(t *testing.T, a, b, _ []forge.Deployment) {
			require.Len(t, b, 1)
			require.Equal(t, "success", b[0].Latest().State, "B stays the live deployment")
			require.Len(t, a, 1)
			require.Equal(t, "inactive", a[0].Latest().State)
			require.Contains(t, a[0].Latest().Description, "overtaken by bbbbbbb")
			for _, s := range a[0].Statuses {
				require.False(t, s.State == "success" && s.AutoInactive, "A's success must not retire B's")
			}
		}},
		{"gitlab", func(t *testing.T) (origin.Forge, fake) {
			f := forge.NewGitLab("glpat-good", "acme/app", "acme/other")
			t.Cleanup(f.Close)
			c, err := gitlabstatus.NewClient(f.URL(), "glpat-good")
			require.NoError(t, err)
			return origin.Forge{Name: "GitLab", Hosts: []string{""}, Post: func(ctx context.Context, project, sha string, u status.Update) error {
				st, err := gitlabstatus.New(gitlabstatus.Options{Client: c, Project: project, Cluster: "prod"})
				require.NoError(t, err)
				dep, err := gitlabdeploy.New(gitlabdeploy.Options{Client: c, Project: project, Cluster: "prod"})
				require.NoError(t, err)
				if err := st.ReportOn(ctx, sha, u); err != nil {
					return err
				}
				return dep.ReportOn(ctx, sha, sha, u)
			}}, f
		}, func(t *testing.T, a, b, env []forge.Deployment) {
			require.Len(t, b, 1)
			require.Equal(t, "success", b[0].Latest().State)
			require.Equal(t, appY, currentOnGitLab(env), "B stays the environment's current deployment")
			for _, d := range a {
				require.NotContains(t, d.States(), "success", "A's success must not become current")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := testingclock.NewFakeClock(t0)
			fg, f := tc.start(t)
			r, err := origin.New(fg)
			require.NoError(t, err)
			l := newLedger("web")
			done := func(sha, app string) status.Update {
				return status.Update{Cluster: "prod", SHA: sha, State: status.Deployed, AppliedAt: t0, FinishedAt: t0.Add(time.Minute),
					Origins: []string{"acme/app@" + app}}
			}
			refusedEarlier(t, l, r.Name(), done(shaA, appX))
			l.record(t, "web", []string{r.Name()}, done(shaB, appY))

			d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{&refuseFirst{Reporter: r, sha: shaA}}, Clock: fc})
			idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
			d.Kick()
			fc.Step(10 * time.Minute)
			idle(t, fc, func() bool { return true })

			for _, app := range []string{appX, appY} {
				sts := f.Statuses("acme/app", app)
				require.NotEmpty(t, sts, "the commit status of %s", app[:7])
				require.Equal(t, "success", sts[len(sts)-1].State)
			}
			tc.check(t, f.Deployments("acme/app", appX, "prod/web"), f.Deployments("acme/app", appY, "prod/web"), f.Deployments("acme/app", "", "prod/web"))
		})
	}
}

// B names another application repo than A: there A's commit is still the
// latest to deploy, and its success, posted late, makes it the live one.
func TestAnOlderSuccessOnAnotherApplicationRepoIsLive(t *testing.T) {
	f := forge.NewGitHub("ghp_good", "acme/app", "acme/other")
	t.Cleanup(f.Close)
	c, err := githubstatus.NewTokenClient(f.APIURL(), "ghp_good")
	require.NoError(t, err)
	r, err := origin.New(origin.Forge{Name: "GitHub", Hosts: []string{""}, Post: func(ctx context.Context, project, sha string, u status.Update) error {
		dep, err := githubdeploy.New(githubdeploy.Options{Options: githubstatus.Options{Client: c, Owner: "acme", Repo: strings.TrimPrefix(project, "acme/"), Cluster: "prod"}})
		require.NoError(t, err)
		return dep.ReportOn(ctx, sha, u)
	}})
	require.NoError(t, err)
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	done := func(sha, origin string) status.Update {
		return status.Update{Cluster: "prod", SHA: sha, State: status.Deployed, AppliedAt: t0, FinishedAt: t0.Add(time.Minute), Origins: []string{origin}}
	}
	refusedEarlier(t, l, r.Name(), done(shaA, "acme/app@"+appX))
	l.record(t, "web", []string{r.Name()}, done(shaB, "acme/other@"+appY))

	d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{&refuseFirst{Reporter: r, sha: shaA}}, Clock: fc})
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
	d.Kick()
	fc.Step(10 * time.Minute)
	idle(t, fc, func() bool { return true })

	a := f.Deployments("acme/app", appX, "prod/web")
	require.Len(t, a, 1)
	require.Equal(t, []string{"queued", "in_progress", "success"}, a[0].States())
}

// A sink that speaks of each commit posts an older commit's refused
// success after a newer one's, marked as overtaken by it. A rollback's
// report, replacing the one still owed for its commit, is newer than the
// commit rolled back from: that one's success is overtaken by it.
func TestAnOlderSuccessIsMarkedOvertaken(t *testing.T) {
	done := func(sha string) status.Update {
		return status.Update{Cluster: "prod", SHA: sha, State: status.Deployed}
	}
	for _, tc := range []struct {
		name     string
		rollback bool
		want     []string
	}{
		{"older", false, []string{"aaaaaaa ", "bbbbbbb ", "aaaaaaa " + shaB}},
		{"a rollback", true, []string{"bbbbbbb ", "aaaaaaa ", "bbbbbbb " + shaA}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := testingclock.NewFakeClock(t0)
			l := newLedger("web")
			s := &sink{name: "origin", clock: fc}
			s.then(status.Permanent(errors.New("refused")))
			if tc.rollback {
				l.record(t, "web", []string{s.name}, done(shaA), done(shaB))
				l.record(t, "web", []string{s.name}, done(shaA))
			} else {
				refusedEarlier(t, l, s.name, done(shaA))
				l.record(t, "web", []string{s.name}, done(shaB))
			}
			d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{s}, Clock: fc})
			idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
			d.Kick()
			fc.Step(10 * time.Minute)
			idle(t, fc, func() bool { return true })
			var got []string
			for _, c := range s.got() {
				got = append(got, c.u.SHA[:7]+" "+c.u.OvertakenBy)
			}
			require.Equal(t, tc.want, got)
		})
	}
}
