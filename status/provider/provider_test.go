package provider_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status/provider"
)

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name, repo, explicit string
		cfg                  provider.Config
		want                 string
		wantErr              bool
	}{
		{name: "github.com over https", repo: "https://github.com/acme/config.git", want: provider.GitHub},
		{name: "github.com scp-like", repo: "git@github.com:acme/config.git", want: provider.GitHub},
		{name: "gitlab.com over ssh", repo: "ssh://git@gitlab.com/platform/team/config.git", want: provider.GitLab},
		{name: "explicit wins", repo: "https://github.com/acme/config", explicit: "GitLab", want: provider.GitLab},
		{name: "explicit none", repo: "https://github.com/acme/config", explicit: "none", want: provider.None},
		{name: "explicit nonsense", repo: "https://github.com/acme/config", explicit: "bitbucket", wantErr: true},
		{name: "self-managed GitLab by host", repo: "git@git.corp:infra/config.git",
			cfg: provider.Config{GitHubAPIURL: "https://ghe.corp/api/v3/", GitLabURL: "https://git.corp"}, want: provider.GitLab},
		{name: "GitHub Enterprise by host", repo: "https://ghe.corp/acme/config",
			cfg: provider.Config{GitHubAPIURL: "https://ghe.corp/api/v3/", GitLabURL: "https://git.corp"}, want: provider.GitHub},
		{name: "Gitea through GITHUB_API_URL", repo: "https://gitea.corp:3000/acme/config", cfg: provider.Config{GitHubAPIURL: "https://gitea.internal/api/v1/"}, want: provider.GitHub},
		{name: "GITLAB_URL set", repo: "https://code.corp/acme/config", cfg: provider.Config{GitLabURL: "https://gitlab.corp"}, want: provider.GitLab},
		{name: "unknown host", repo: "https://code.corp/acme/config", want: provider.None},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why, err := provider.Decide(tc.repo, tc.explicit, tc.cfg)
			if tc.wantErr {
				require.ErrorContains(t, err, "STATUS_PROVIDER")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.NotEmpty(t, why)
		})
	}
}

func TestChoose(t *testing.T) {
	for _, tc := range []struct {
		name, repo, explicit string
		cfg                  provider.Config
		sink                 string // "" when no reporter
		reason               string
		wantErr              string
	}{
		{name: "GitHub with a token", repo: "git@github.com:acme/config.git", cfg: provider.Config{GitHubToken: "ghp_secret"},
			sink: "github", reason: "commit statuses on GitHub acme/config with a token (the config repo is on github.com)"},
		{name: "GitHub without credentials", repo: "https://github.com/acme/config",
			reason: "commit statuses off: GitHub chosen (the config repo is on github.com) but neither GITHUB_TOKEN nor a GitHub App is set"},
		{name: "GitLab with a token", repo: "https://gitlab.com/platform/team/config.git", cfg: provider.Config{GitLabToken: "glpat-secret"},
			sink: "gitlab", reason: "commit statuses on GitLab platform/team/config (the config repo is on gitlab.com)"},
		{name: "GitLab without a token", repo: "https://gitlab.com/platform/config",
			reason: "commit statuses off: GitLab chosen (the config repo is on gitlab.com) but GITLAB_TOKEN is not set"},
		{name: "none", repo: "https://code.corp/acme/config", cfg: provider.Config{GitHubToken: "t"},
			reason: `commit statuses off: the config repo host "code.corp" is neither github.com nor gitlab.com, and neither GITHUB_API_URL nor GITLAB_URL is set (or set STATUS_PROVIDER)`},
		{name: "none asked for", repo: "https://github.com/acme/config", explicit: "none", cfg: provider.Config{GitHubToken: "t"},
			reason: "commit statuses off: STATUS_PROVIDER=none"},
		{name: "GitHub App key missing", repo: "https://github.com/acme/config",
			cfg: provider.Config{GitHubAppID: 1, GitHubAppInstallationID: 2, GitHubAppPrivateKeyFile: "/nonexistent/key.pem"}, wantErr: "key"},
		{name: "repo without owner", repo: "https://github.com/config", cfg: provider.Config{GitHubToken: "t"}, wantErr: "path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, reason, err := provider.Choose(tc.repo, tc.explicit, tc.cfg)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.reason, reason)
			require.NotContains(t, reason, "secret")
			if tc.sink == "" {
				require.Nil(t, r)
				return
			}
			require.NotNil(t, r)
			require.Equal(t, tc.sink, r.Name())
		})
	}
}

func TestOwnerRepo(t *testing.T) {
	for _, tc := range []struct{ in, owner, repo string }{
		{"https://github.com/acme/config.git", "acme", "config"},
		{"git@github.com:acme/config.git", "acme", "config"},
		{"ssh://git@github.com:22/acme/config", "acme", "config"},
		{"https://x-access-token:tok@github.com/acme/config/", "acme", "config"},
		{"https://ghe.corp/scm/acme/config.git", "acme", "config"},
	} {
		o, r, err := provider.OwnerRepo(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, [2]string{tc.owner, tc.repo}, [2]string{o, r}, tc.in)
	}
}
