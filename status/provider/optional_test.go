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

const shaOne, shaTwo = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"

// deniable is a forge fake whose token may be kept from deployments.
type deniable interface {
	DenyDeployments()
	Deployments(repo, sha, environment string) []forge.Deployment
	Calls() []forge.Call
}

type forgeCase struct {
	name, repoURL, project, mode, refusal string
	fake                                  deniable
	cfg                                   provider.Config
}

func forges(t *testing.T) []forgeCase {
	gh := forge.NewGitHub("ghp_good", "acme/config")
	t.Cleanup(gh.Close)
	gl := forge.NewGitLab("glpat-good", "platform/config")
	t.Cleanup(gl.Close)
	return []forgeCase{
		{name: "github", repoURL: "https://github.com/acme/config", project: "acme/config", mode: "github", fake: gh,
			refusal: "Resource not accessible by personal access token", cfg: provider.Config{GitHubToken: "ghp_good", GitHubAPIURL: gh.APIURL(), Cluster: "prod"}},
		{name: "gitlab", repoURL: "https://gitlab.com/platform/config", project: "platform/config", mode: "gitlab", fake: gl,
			refusal: "403 Forbidden", cfg: provider.Config{GitLabToken: "glpat-good", GitLabURL: gl.URL(), Cluster: "prod"}},
	}
}

func deploymentCalls(f deniable) int {
	n := 0
	for _, c := range f.Calls() {
		if strings.Contains(c.Path, "/deployments") || strings.Contains(c.Path, "/environments") {
			n++
		}
	}
	return n
}

// DEPLOYMENTS left unset follows the forge: deployments are made while the
// token may; the first answer that it may not turns them off, said once
// (a refusal the outbox shows in the Reporting condition) and not asked
// again.
func TestDefaultDeploymentsFollowTheToken(t *testing.T) {
	for _, f := range forges(t) {
		t.Run(f.name, func(t *testing.T) {
			ctx := context.Background()
			r, why, err := provider.ChooseDeployments(f.repoURL, "", f.cfg, provider.Deployments{})
			require.NoError(t, err)
			require.Contains(t, why, "while the token may")
			applying := status.Update{Namespace: "web", SHA: shaOne, State: status.Applying}
			require.NoError(t, r.Report(ctx, applying), "the token may: on")
			require.Len(t, f.fake.Deployments(f.project, shaOne, "prod/web"), 1)

			f.fake.DenyDeployments()
			err = r.Report(ctx, status.Update{Namespace: "web", SHA: shaTwo, State: status.Applying})
			require.True(t, status.IsPermanent(err), "%v", err)
			require.ErrorContains(t, err, "deployments off")
			require.ErrorContains(t, err, "DEPLOYMENTS=off")
			require.ErrorContains(t, err, f.refusal)
			asked := deploymentCalls(f.fake)
			for _, u := range []status.Update{
				{Namespace: "web", SHA: shaTwo, State: status.RollingOut},
				{Namespace: "web", SHA: shaOne, State: status.Deployed},
			} {
				again := r.Report(ctx, u)
				require.Equal(t, err, again, "the same refusal")
			}
			require.Equal(t, asked, deploymentCalls(f.fake), "not asked again")
		})
	}
}

// DEPLOYMENTS named explicitly is not turned off: each report asks, and a
// refusal is the sink's own.
func TestExplicitDeploymentsKeepAsking(t *testing.T) {
	for _, f := range forges(t) {
		t.Run(f.name, func(t *testing.T) {
			ctx := context.Background()
			r, _, err := provider.ChooseDeployments(f.repoURL, "", f.cfg, provider.Deployments{Mode: f.mode})
			require.NoError(t, err)
			f.fake.DenyDeployments()
			for _, sha := range []string{shaOne, shaTwo} {
				asked := deploymentCalls(f.fake)
				err = r.Report(ctx, status.Update{Namespace: "web", SHA: sha, State: status.Applying})
				require.True(t, status.IsPermanent(err), "%v", err)
				require.NotContains(t, err.Error(), "deployments off")
				require.Greater(t, deploymentCalls(f.fake), asked, "asked")
			}
		})
	}
}

// With DEPLOYMENTS unset, an application repo where the token may not make
// deployments still gets its commit statuses, and its deployments are not
// asked for again.
func TestOriginsWithoutDeploymentsGetStatuses(t *testing.T) {
	for _, f := range forges(t) {
		t.Run(f.name, func(t *testing.T) {
			ctx := context.Background()
			r, _, err := provider.ChooseOrigins(f.repoURL, "", f.cfg, provider.Deployments{})
			require.NoError(t, err)
			f.fake.DenyDeployments()
			u := status.Update{Namespace: "web", SHA: shaTwo, State: status.Applying, Origins: []string{f.project + "@" + shaOne}}
			require.NoError(t, r.Report(ctx, u))
			asked := deploymentCalls(f.fake)
			u.State = status.Deployed
			require.NoError(t, r.Report(ctx, u))
			require.Equal(t, asked, deploymentCalls(f.fake), "not asked again")
			st, ok := f.fake.(interface {
				Latest(repo, sha, context string) (forge.Status, bool)
			}).Latest(f.project, shaOne, "syncgate/prod/web")
			require.True(t, ok)
			require.Equal(t, "success", st.State, "the status reached the application commit")
		})
	}
}
