package gitlabstatus_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/gitlabstatus"
	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/sinktest"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func setup(t *testing.T, token, project string) (*forge.GitLab, *gitlabstatus.Reporter) {
	t.Helper()
	f := forge.NewGitLab("glpat-good", "platform/team/config")
	t.Cleanup(f.Close)
	c, err := gitlabstatus.NewClient(f.URL(), token)
	require.NoError(t, err)
	r, err := gitlabstatus.New(gitlabstatus.Options{Client: c, Project: project, Cluster: "prod", PublicURL: "https://syncgate.example.com"})
	require.NoError(t, err)
	return f, r
}

func TestProjectPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://gitlab.com/group/sub/project.git", "group/sub/project"},
		{"https://gitlab.com/group/project", "group/project"},
		{"ssh://git@gitlab.example.com:2222/a/b.git", "a/b"},
		{"git@gitlab.com:group/sub/sub2/project.git", "group/sub/sub2/project"},
		{"gitlab.com:group/project", "group/project"},
		{"https://oauth2:tok@GitLab.Example.com/x/y/z/", "x/y/z"},
	} {
		got, err := gitlabstatus.ProjectPath(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"https://gitlab.com/", "https://gitlab.com/project.git", "/srv/git/config", "https://user:secret@gitlab.com/"} {
		_, err := gitlabstatus.ProjectPath(bad)
		require.Error(t, err, bad)
		require.NotContains(t, err.Error(), "secret")
	}
}

func TestLifecycles(t *testing.T) {
	applied := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		final status.Update
		want  string
		desc  string
	}{
		{"deployed", status.Update{State: status.Deployed, AppliedAt: applied, FinishedAt: applied.Add(42 * time.Second)}, "success", "deployed in 42s"},
		{"failed", status.Update{State: status.Failed, Reason: "Deployment web: ProgressDeadlineExceeded"}, "failed", "Deployment web: ProgressDeadlineExceeded"},
		{"superseded by a deployed commit", status.Update{State: status.Superseded, Outcome: status.Deployed, CarriedBy: "abc1234def"}, "success", "deployed by abc1234"},
		{"superseded by a failed commit", status.Update{State: status.Superseded, Outcome: status.Failed, CarriedBy: "abc1234def", Reason: "boom"}, "failed", "failed in abc1234: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := setup(t, "glpat-good", "platform/team/config")
			ctx := context.Background()
			for _, u := range []status.Update{{State: status.Applying}, {State: status.RollingOut, Ready: 1, Total: 3}, {State: status.RollingOut, Ready: 2, Total: 3}, tc.final} {
				u.Namespace, u.SHA = "web", sha
				require.NoError(t, r.Report(ctx, u))
				require.NoError(t, r.Report(ctx, u), "replays are skipped, not refused")
			}
			var got []string
			for _, s := range f.Statuses("platform/team/config", sha) {
				got = append(got, s.State)
				require.Equal(t, "syncgate/prod/web", s.Context)
				require.Equal(t, "https://syncgate.example.com/status/"+sha, s.TargetURL)
			}
			require.Equal(t, []string{"pending", "running", tc.want}, got, "running → running is never asked of GitLab")
			last, _ := f.Latest("platform/team/config", sha, "syncgate/prod/web")
			require.Equal(t, tc.desc, last.Description)
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	u := status.Update{Namespace: "web", SHA: sha, State: status.Applying}
	for _, tc := range []struct {
		name      string
		token     string
		project   string
		faults    []forge.Fault
		permanent bool
		after     time.Duration
		contains  string
	}{
		{name: "bad token", token: "glpat-wrong", permanent: true, contains: "GITLAB_TOKEN is not valid"},
		{name: "unknown project", project: "platform/gone", permanent: true, contains: "project platform/gone or commit 0123456 not found"},
		{name: "forbidden", faults: []forge.Fault{{Status: 403, Body: `{"message":"403 Forbidden"}`}}, permanent: true, contains: "api scope"},
		{name: "429 with Retry-After", faults: []forge.Fault{{Status: 429, Headers: map[string]string{"Retry-After": "12"}, Body: `{"message":"429 Too Many Requests"}`}}, after: 12 * time.Second},
		{name: "503", faults: []forge.Fault{{Status: 503, Body: `{"message":"503 Service Unavailable"}`}}},
		{name: "503 with Retry-After", faults: []forge.Fault{{Status: 503, Headers: map[string]string{"Retry-After": "45"}, Body: `{"message":"503 Service Unavailable"}`}}, after: 45 * time.Second},
		{name: "502 on the post", faults: []forge.Fault{{Status: http.StatusOK, Body: `[]`}, {Status: 502, Body: `{"message":"502"}`}}},
		{name: "a refused transition to another state", faults: []forge.Fault{{Status: http.StatusOK, Body: `[]`},
			{Status: 400, Body: `{"message":"Cannot transition status via :enqueue from :success"}`}}, permanent: true, contains: "will not move"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token, project := tc.token, tc.project
			if token == "" {
				token = "glpat-good"
			}
			if project == "" {
				project = "platform/team/config"
			}
			f, r := setup(t, token, project)
			for _, ft := range tc.faults {
				f.FailNext(1, ft)
			}
			sinktest.Answer{Permanent: tc.permanent, After: tc.after, Contains: tc.contains}.Require(t, r.Report(ctx, u))
			if !tc.permanent {
				require.NoError(t, r.Report(ctx, u), "delivered once GitLab recovers")
				require.Len(t, f.Statuses("platform/team/config", sha), 1)
			}
		})
	}
}

func TestARaceToTheSameStateIsSuccess(t *testing.T) {
	f, r := setup(t, "glpat-good", "platform/team/config")
	ctx := context.Background()
	u := status.Update{Namespace: "web", SHA: sha, State: status.RollingOut}
	// Another replica sets "running" between our read and our post: the
	// fake's GET says nothing yet, then GitLab refuses running → running.
	other, err := gitlabstatus.NewClient(f.URL(), "glpat-good")
	require.NoError(t, err)
	peer, err := gitlabstatus.New(gitlabstatus.Options{Client: other, Project: "platform/team/config", Cluster: "prod"})
	require.NoError(t, err)
	require.NoError(t, peer.Report(ctx, u))
	f.FailNext(1, forge.Fault{Status: http.StatusOK, Body: `[]`}) // our stale read
	require.NoError(t, r.Report(ctx, u))
	require.Len(t, f.Statuses("platform/team/config", sha), 1)
}
