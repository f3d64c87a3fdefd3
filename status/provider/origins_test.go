package provider_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/provider"
	"github.com/syncgate/syncgate/testing/forge"
)

const (
	appSHA  = "0123456789abcdef0123456789abcdef01234567"
	app2SHA = "89abcdef0123456789abcdef0123456789abcdef"
	cfgSHA  = "cccccccccccccccccccccccccccccccccccccccc"
)

func TestOriginsOnBothForges(t *testing.T) {
	gh := forge.NewGitHub("ghp_good", "acme/config", "acme/app")
	t.Cleanup(gh.Close)
	gl := forge.NewGitLab("glpat-good", "platform/api")
	t.Cleanup(gl.Close)
	cfg := provider.Config{Cluster: "prod", PublicURL: "https://syncgate.example.com", GitHubToken: "ghp_good", GitHubAPIURL: gh.APIURL(),
		GitLabToken: "glpat-good", GitLabURL: gl.URL()}
	r, why, err := provider.ChooseOrigins("git@github.com:acme/config.git", "", cfg, provider.Deployments{})
	require.NoError(t, err)
	require.Equal(t, "origin", r.Name())
	require.Contains(t, why, "GitHub (owner/name, github.com, 127.0.0.1) and GitLab (gitlab.com, 127.0.0.1)")

	ctx := context.Background()
	u := status.Update{Namespace: "web", SHA: cfgSHA, State: status.Applying, Origins: []string{
		"acme/app@" + appSHA,
		strings.TrimSuffix(gh.URL(), "/") + "/acme/app.git@" + app2SHA,
	}}
	require.NoError(t, r.Report(ctx, u))
	u.State = status.Deployed
	require.NoError(t, r.Report(ctx, u))
	require.NoError(t, r.Report(ctx, u), "replay")
	want := map[string][]string{appSHA: {"queued", "success", "inactive"}, app2SHA: {"queued", "success"}} // one live deployment per environment
	for _, sha := range []string{appSHA, app2SHA} {
		st, ok := gh.Latest("acme/app", sha, "syncgate/prod/web")
		require.True(t, ok)
		require.Equal(t, "success", st.State)
		require.Equal(t, "https://syncgate.example.com/status/"+cfgSHA, st.TargetURL, "links to the config commit's page")
		deps := gh.Deployments("acme/app", sha, "prod/web")
		require.Len(t, deps, 1)
		require.Equal(t, want[sha], deps[0].States())
	}
	require.Empty(t, gh.Statuses("acme/config", cfgSHA), "the config commit is the other sinks' business")
}

func TestOriginsRefusedOnce(t *testing.T) {
	gh := forge.NewGitHub("ghp_good", "acme/config", "acme/app")
	t.Cleanup(gh.Close)
	cfg := provider.Config{Cluster: "prod", GitHubToken: "ghp_good", GitHubAPIURL: gh.APIURL()}
	r, _, err := provider.ChooseOrigins(gh.URL()+"/acme/config.git", "", cfg, provider.Deployments{Mode: "off"})
	require.NoError(t, err)
	ctx := context.Background()
	u := status.Update{Namespace: "web", SHA: cfgSHA, State: status.Deployed, Origins: []string{
		"acme/secret@" + appSHA, "https://code.example.org/acme/x@" + appSHA, "acme/app@" + appSHA,
	}}
	err = r.Report(ctx, u)
	require.True(t, status.IsPermanent(err), "%v", err)
	require.ErrorContains(t, err, "acme/secret: repository acme/secret not found")
	require.ErrorContains(t, err, "no GitHub or GitLab credentials reach code.example.org")
	st, ok := gh.Latest("acme/app", appSHA, "syncgate/prod/web")
	require.True(t, ok, "the others are reported")
	require.Equal(t, "success", st.State)
	require.Empty(t, gh.Deployments("acme/app", "", ""), "DEPLOYMENTS=off: statuses only")

	calls := len(gh.Calls())
	err = r.Report(ctx, u)
	require.True(t, status.IsPermanent(err))
	for _, c := range gh.Calls()[calls:] {
		require.NotContains(t, c.Path, "acme/secret", "a refused repository is not asked again")
	}

	gh.FailNext(1, forge.Fault{Status: 502, Body: `{"message":"Server Error"}`})
	u.Origins = []string{"acme/app@" + app2SHA}
	err = r.Report(ctx, u)
	require.Error(t, err)
	require.False(t, status.IsPermanent(err), "trouble is retried")
	require.NoError(t, r.Report(ctx, u))
}
