package gitlabstatus_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/gitlabstatus"
	"github.com/syncgate/syncgate/testing/forge"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func setup(t *testing.T, token string) (*forge.GitLab, *gitlabstatus.Reporter) {
	t.Helper()
	f := forge.NewGitLab("glpat-good", "platform/team/config")
	t.Cleanup(f.Close)
	c, err := gitlabstatus.NewClient(f.URL(), token)
	require.NoError(t, err)
	project, err := gitlabstatus.ProjectPath("git@gitlab.example.com:platform/team/config.git")
	require.NoError(t, err)
	r, err := gitlabstatus.New(gitlabstatus.Options{Client: c, Project: project})
	require.NoError(t, err)
	return f, r
}

func TestProjectPath(t *testing.T) {
	for in, want := range map[string]string{
		"https://gitlab.com/group/sub/project.git":     "group/sub/project",
		"ssh://git@gitlab.example.com:2222/a/b.git":    "a/b",
		"git@gitlab.com:group/project":                 "group/project",
		"https://oauth2:tok@gitlab.example.com/x/y/z/": "x/y/z",
	} {
		got, err := gitlabstatus.ProjectPath(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
}

func TestLifecycles(t *testing.T) {
	for final, want := range map[status.State]string{status.Deployed: "success", status.Failed: "failed"} {
		t.Run(want, func(t *testing.T) {
			f, r := setup(t, "glpat-good")
			ctx := context.Background()
			for _, s := range []status.State{status.Applying, status.RollingOut, final} {
				u := status.Update{Cluster: "prod", Namespace: "web", SHA: sha, State: s, Reason: "boom"}
				require.NoError(t, r.Report(ctx, u))
				require.NoError(t, r.Report(ctx, u), "replays are skipped, not refused")
			}
			var got []string
			for _, s := range f.Statuses("platform/team/config", sha) {
				got = append(got, s.State)
				require.Equal(t, "syncgate/prod/web", s.Context)
			}
			require.Equal(t, []string{"pending", "running", want}, got)
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	u := status.Update{Cluster: "prod", Namespace: "web", SHA: sha, State: status.Applying}
	_, r := setup(t, "glpat-wrong")
	err := r.Report(ctx, u)
	require.True(t, status.IsPermanent(err), "%v", err)

	f, r := setup(t, "glpat-good")
	f.FailNext(1, forge.Fault{Status: 429, Headers: map[string]string{"Retry-After": "12"}, Body: `{"message":"429 Too Many Requests"}`})
	err = r.Report(ctx, u)
	d, ok := status.RetryAfterOf(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, 12*time.Second, d)
	f.FailNext(1, forge.Fault{Status: 503, Body: `{"message":"503"}`})
	require.False(t, status.IsPermanent(r.Report(ctx, u)))
	require.NoError(t, r.Report(ctx, u))
	calls := len(f.Calls())
	require.NoError(t, r.Report(ctx, u))
	require.Equal(t, calls+1, len(f.Calls()), "one GET, no POST, once delivered")
}
