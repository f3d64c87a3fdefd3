package githubstatus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/testing/forge"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

func setup(t *testing.T, token string) (*forge.GitHub, *githubstatus.Reporter) {
	t.Helper()
	f := forge.NewGitHub("ghp_good", "acme/config")
	t.Cleanup(f.Close)
	c, err := githubstatus.NewClient(f.APIURL(), token, 0, 0, "")
	require.NoError(t, err)
	r, err := githubstatus.New(githubstatus.Options{Client: c, Owner: "acme", Repo: "config", PublicURL: "https://syncgate.example.com"})
	require.NoError(t, err)
	return f, r
}

func TestLifecycles(t *testing.T) {
	applied := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		final     status.Update
		state     string
		descStart string
	}{
		{status.Update{State: status.Deployed, AppliedAt: applied, FinishedAt: applied.Add(42 * time.Second)}, "success", "deployed in 42s"},
		{status.Update{State: status.Failed, Reason: "Deployment web: pod web-1 container web: CrashLoopBackOff " + strings.Repeat("x", 200)}, "failure", "failed: Deployment web"},
	} {
		t.Run(tc.state, func(t *testing.T) {
			f, r := setup(t, "ghp_good")
			ctx := context.Background()
			base := status.Update{Cluster: "prod", Namespace: "web", SHA: sha}
			for _, u := range []status.Update{{State: status.Applying}, {State: status.RollingOut, Ready: 1, Total: 3}, tc.final} {
				u.Cluster, u.Namespace, u.SHA = base.Cluster, base.Namespace, base.SHA
				require.NoError(t, r.Report(ctx, u))
				require.NoError(t, r.Report(ctx, u), "a replay posts nothing new")
			}
			st := f.Statuses("acme/config", sha)
			require.Len(t, st, 3, "pending, pending, final; replays skipped")
			require.Equal(t, "pending", st[0].State)
			require.Equal(t, "applying", st[0].Description)
			require.Equal(t, "rolling out (1/3 ready)", st[1].Description)
			last, ok := f.Latest("acme/config", sha, "syncgate/prod/web")
			require.True(t, ok)
			require.Equal(t, tc.state, last.State)
			require.True(t, strings.HasPrefix(last.Description, tc.descStart), last.Description)
			require.LessOrEqual(t, len([]rune(last.Description)), 140)
			require.Equal(t, "https://syncgate.example.com/status/"+sha, last.TargetURL)
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	u := status.Update{Cluster: "prod", Namespace: "web", SHA: sha, State: status.Applying}

	_, r := setup(t, "ghp_wrong")
	err := r.Report(ctx, u)
	require.True(t, status.IsPermanent(err), "%v", err)
	require.Contains(t, err.Error(), "GITHUB_TOKEN")

	f, r := setup(t, "ghp_good")
	f.FailNext(1, forge.Fault{Status: 429, Headers: map[string]string{"Retry-After": "30"}, Body: `{"message":"You have exceeded a secondary rate limit"}`})
	err = r.Report(ctx, u)
	d, ok := status.RetryAfterOf(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, 30*time.Second, d)

	f.FailNext(2, forge.Fault{Status: 502, Body: `{"message":"Server Error"}`})
	err = r.Report(ctx, u)
	require.Error(t, err)
	require.False(t, status.IsPermanent(err))
	err = r.Report(ctx, u)
	require.Error(t, err)
	require.NoError(t, r.Report(ctx, u), "delivered after the burst")

	c, err := githubstatus.NewClient(f.APIURL(), "ghp_good", 0, 0, "")
	require.NoError(t, err)
	missing, err := githubstatus.New(githubstatus.Options{Client: c, Owner: "acme", Repo: "gone"})
	require.NoError(t, err)
	err = missing.Report(ctx, u)
	require.True(t, status.IsPermanent(err))
	require.Contains(t, err.Error(), "acme/gone")
}
