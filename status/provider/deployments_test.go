package provider_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status/provider"
)

func TestChooseDeployments(t *testing.T) {
	gh := provider.Config{GitHubToken: "ghp_secret", Cluster: "prod"}
	for _, tc := range []struct {
		name, repo, statuses string
		cfg                  provider.Config
		mode                 string
		sink                 string
		reason               string
		wantErr              string
	}{
		{name: "with commit statuses on GitHub", repo: "git@github.com:acme/config.git", cfg: gh,
			sink: "github-deployments", reason: "deployments on GitHub acme/config with a token (with commit statuses: the config repo is on github.com), while the token may"},
		{name: "off with commit statuses", repo: "https://github.com/acme/config",
			reason: "deployments off: commit statuses are off (the config repo is on github.com)"},
		{name: "off when statuses are", repo: "https://github.com/acme/config", statuses: "none", cfg: gh,
			reason: "deployments off: commit statuses are off (STATUS_PROVIDER=none)"},
		{name: "DEPLOYMENTS=off", repo: "https://github.com/acme/config", cfg: gh, mode: "off", reason: "deployments off: DEPLOYMENTS=off"},
		{name: "DEPLOYMENTS=github with statuses off", repo: "https://code.corp/acme/config", cfg: gh, mode: "GitHub",
			sink: "github-deployments", reason: "deployments on GitHub acme/config with a token (DEPLOYMENTS=github)"},
		{name: "DEPLOYMENTS=github without credentials", repo: "https://github.com/acme/config", mode: "github", wantErr: "DEPLOYMENTS=github needs GITHUB_TOKEN"},
		{name: "with commit statuses on GitLab", repo: "https://gitlab.com/platform/team/config.git", cfg: provider.Config{GitLabToken: "glpat-secret"},
			sink: "gitlab-deployments", reason: "deployments on GitLab platform/team/config (with commit statuses: the config repo is on gitlab.com), while the token may"},
		{name: "DEPLOYMENTS=gitlab", repo: "https://git.corp/platform/config.git", cfg: provider.Config{GitLabToken: "glpat-secret", GitLabURL: "https://git.corp"}, mode: "gitlab",
			sink: "gitlab-deployments", reason: "deployments on GitLab platform/config (DEPLOYMENTS=gitlab)"},
		{name: "DEPLOYMENTS=gitlab without a token", repo: "https://gitlab.com/acme/config", mode: "gitlab", wantErr: "DEPLOYMENTS=gitlab needs GITLAB_TOKEN"},
		{name: "DEPLOYMENTS nonsense", repo: "https://github.com/acme/config", cfg: gh, mode: "yes", wantErr: `DEPLOYMENTS "yes" is not github, gitlab or off`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, why, err := provider.ChooseDeployments(tc.repo, tc.statuses, tc.cfg, provider.Deployments{Mode: tc.mode})
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.reason, why)
			if tc.sink == "" {
				require.Nil(t, r)
				return
			}
			require.NotNil(t, r)
			require.Equal(t, tc.sink, r.Name())
		})
	}
}
