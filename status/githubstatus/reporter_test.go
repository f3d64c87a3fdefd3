package githubstatus_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/sinktest"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

var applied = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T, token string, clk *testingclock.FakeClock) (*forge.GitHub, *githubstatus.Reporter) {
	t.Helper()
	f := forge.NewGitHub("ghp_good", "acme/config")
	t.Cleanup(f.Close)
	c, err := githubstatus.NewTokenClient(f.APIURL(), token)
	require.NoError(t, err)
	opts := githubstatus.Options{Client: c, Owner: "acme", Repo: "config", Cluster: "prod", PublicURL: "https://syncgate.example.com/"}
	if clk != nil {
		opts.Clock = clk
	}
	r, err := githubstatus.New(opts)
	require.NoError(t, err)
	return f, r
}

func TestLifecycles(t *testing.T) {
	long := "Deployment web: pod web-1 container web: CrashLoopBackOff " + strings.Repeat("x", 200)
	for _, tc := range []struct {
		name  string
		final status.Update
		state string
		desc  string
	}{
		{"deployed", status.Update{State: status.Deployed, AppliedAt: applied, FinishedAt: applied.Add(42 * time.Second)}, "success", "deployed in 42s"},
		{"failed", status.Update{State: status.Failed, Reason: long}, "failure", long[:139] + "…"},
		{"superseded by a deployed commit", status.Update{State: status.Superseded, Outcome: status.Deployed, CarriedBy: "abc1234def5678abc1234def5678abc1234def56",
			AppliedAt: applied, FinishedAt: applied.Add(42 * time.Second)}, "success", "deployed by abc1234 in 42s"},
		{"superseded by a failed commit", status.Update{State: status.Superseded, Outcome: status.Failed, CarriedBy: "abc1234def5678abc1234def5678abc1234def56",
			Reason: "ImagePullBackOff"}, "failure", "failed in abc1234: ImagePullBackOff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, r := setup(t, "ghp_good", nil)
			ctx := context.Background()
			for _, u := range []status.Update{{State: status.Applying}, {State: status.RollingOut, Ready: 1, Total: 3}, tc.final} {
				u.Cluster, u.Namespace, u.SHA = "ignored", "web", sha
				require.NoError(t, r.Report(ctx, u))
				require.NoError(t, r.Report(ctx, u), "a replay posts nothing new")
			}
			st := f.Statuses("acme/config", sha)
			require.Len(t, st, 3, "pending, pending, final; replays skipped")
			var got [][2]string
			for _, s := range st {
				got = append(got, [2]string{s.State, s.Description})
				require.Equal(t, "syncgate/prod/web", s.Context)
				require.Equal(t, "https://syncgate.example.com/status/"+sha, s.TargetURL)
			}
			require.Equal(t, [][2]string{{"pending", "applying"}, {"pending", "rolling out (1/3 ready)"}, {tc.state, tc.desc}}, got)
		})
	}
}

func TestSupersededWithoutOutcomeIsNotPosted(t *testing.T) {
	f, r := setup(t, "ghp_good", nil)
	require.NoError(t, r.Report(context.Background(), status.Update{Namespace: "web", SHA: sha, State: status.Superseded, CarriedBy: "abc"}))
	require.Empty(t, f.Calls())
}

func TestOtherContextsDoNotCount(t *testing.T) {
	f, r := setup(t, "ghp_good", nil)
	ctx := context.Background()
	require.NoError(t, r.Report(ctx, status.Update{Namespace: "web", SHA: sha, State: status.Applying}))
	require.NoError(t, r.Report(ctx, status.Update{Namespace: "api", SHA: sha, State: status.Applying}))
	require.Len(t, f.Statuses("acme/config", sha), 2)
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	u := status.Update{Namespace: "web", SHA: sha, State: status.Applying}
	clk := testingclock.NewFakeClock(applied)
	reset := strconv.FormatInt(applied.Add(10*time.Minute).Unix(), 10)
	secondary := `{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	for _, tc := range []struct {
		name      string
		token     string
		repo      string
		fault     *forge.Fault
		permanent bool
		after     time.Duration
		contains  string
	}{
		{name: "bad token", token: "ghp_wrong", permanent: true, contains: "GITHUB_TOKEN is not valid"},
		{name: "unknown repository", repo: "gone", permanent: true, contains: "repository acme/gone not found or token lacks repo:status"},
		{name: "forbidden", fault: &forge.Fault{Status: 403, Body: `{"message":"Resource not accessible by integration"}`}, permanent: true, contains: "repo:status"},
		{name: "unknown commit", fault: &forge.Fault{Status: 422, Body: `{"message":"No commit found for SHA: 0123456"}`}, permanent: true, contains: "is the commit pushed"},
		{name: "primary rate limit", fault: &forge.Fault{Status: 403, Headers: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "5000", "X-RateLimit-Reset": reset},
			Body: `{"message":"API rate limit exceeded"}`}, after: 10*time.Minute + time.Second, contains: "rate limit"},
		{name: "secondary rate limit", fault: &forge.Fault{Status: 403, Headers: map[string]string{"Retry-After": "30"}, Body: secondary}, after: 30 * time.Second},
		{name: "429 with Retry-After", fault: &forge.Fault{Status: 429, Headers: map[string]string{"Retry-After": "12"}, Body: `{"message":"Too Many Requests"}`}, after: 12 * time.Second},
		{name: "server error", fault: &forge.Fault{Status: 502, Body: `{"message":"Server Error"}`}},
		{name: "503 with Retry-After", fault: &forge.Fault{Status: 503, Headers: map[string]string{"Retry-After": "45"}, Body: `{"message":"Service Unavailable"}`}, after: 45 * time.Second},
		{name: "secondary rate limit without its documentation link", fault: &forge.Fault{Status: 403, Headers: map[string]string{"Retry-After": "20"},
			Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`}, after: 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.token
			if token == "" {
				token = "ghp_good"
			}
			f, r := setup(t, token, clk)
			if tc.repo != "" {
				c, err := githubstatus.NewTokenClient(f.APIURL(), token)
				require.NoError(t, err)
				r, err = githubstatus.New(githubstatus.Options{Client: c, Owner: "acme", Repo: tc.repo, Cluster: "prod"})
				require.NoError(t, err)
			}
			if tc.fault != nil {
				f.FailNext(1, *tc.fault)
			}
			sinktest.Answer{Permanent: tc.permanent, After: tc.after, Contains: tc.contains}.Require(t, r.Report(ctx, u))
			if !tc.permanent {
				require.NoError(t, r.Report(ctx, u), "delivered once GitHub recovers")
				require.Len(t, f.Statuses("acme/config", sha), 1)
			}
		})
	}
}

func TestEnterpriseAndGiteaRootsAreUsedAsGiven(t *testing.T) {
	f := forge.NewGitHub("ghp_good", "acme/config")
	t.Cleanup(f.Close)
	for _, root := range []string{f.APIURL(), strings.TrimSuffix(f.APIURL(), "/")} {
		c, err := githubstatus.NewTokenClient(root, "ghp_good")
		require.NoError(t, err)
		require.Equal(t, f.APIURL(), c.BaseURL())
	}
	c, err := githubstatus.NewTokenClient("https://gitea.example.com/api/v1", "t")
	require.NoError(t, err)
	require.Equal(t, "https://gitea.example.com/api/v1/", c.BaseURL(), "no /api/v3/ added")
	c, err = githubstatus.NewTokenClient("", "t")
	require.NoError(t, err)
	require.Equal(t, "https://api.github.com/", c.BaseURL())
}

func TestAppClient(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "app.pem")
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))

	f := forge.NewGitHub("ghp_good", "acme/config")
	t.Cleanup(f.Close)
	c, err := githubstatus.NewAppClient(f.APIURL(), 1234, 5678, file)
	require.NoError(t, err)
	r, err := githubstatus.New(githubstatus.Options{Client: c, Owner: "acme", Repo: "config", Cluster: "prod"})
	require.NoError(t, err)
	// The fake does not issue installation tokens: the refusal must read as
	// an App problem, reported once.
	err = r.Report(context.Background(), status.Update{Namespace: "web", SHA: sha, State: status.Applying})
	require.True(t, status.IsPermanent(err), "%v", err)
	require.Contains(t, err.Error(), "GitHub App")
	var sawTokenRequest bool
	for _, call := range f.Calls() {
		sawTokenRequest = sawTokenRequest || strings.HasSuffix(call.Path, "/app/installations/5678/access_tokens")
	}
	require.True(t, sawTokenRequest, "the installation token is asked of the configured API root: %v", f.Calls())

	_, err = githubstatus.NewAppClient(f.APIURL(), 1234, 5678, filepath.Join(t.TempDir(), "missing.pem"))
	require.Error(t, err)
	_, err = githubstatus.NewClient("", "", 0, 0, "")
	require.ErrorContains(t, err, "GITHUB_TOKEN")
}
