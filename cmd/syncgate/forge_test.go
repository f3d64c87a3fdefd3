package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCommitStatusesFollowTheSettings(t *testing.T) {
	r, why, err := chooseForge(&config{Repo: "https://github.com/acme/config.git", Cluster: "c"})
	require.NoError(t, err)
	require.Nil(t, r)
	require.NotEmpty(t, why, "one line says why statuses are off")

	r, _, err = chooseForge(&config{Repo: "git@github.com:acme/config.git", Cluster: "c", GitHubToken: "t"})
	require.NoError(t, err)
	require.NotNil(t, r)
	require.Equal(t, "github", r.Name())

	r, _, err = chooseForge(&config{Repo: "https://git.example.com/team/config.git", Cluster: "c", GitLabURL: "https://git.example.com", GitLabToken: "t"})
	require.NoError(t, err)
	require.NotNil(t, r)
	require.Equal(t, "gitlab", r.Name())

	// A GitHub App key that cannot be read is blamed, not STATUS_PROVIDER.
	_, _, err = chooseForge(&config{Repo: "https://github.com/acme/config.git", Cluster: "c",
		GitHubAppID: 1, GitHubAppInstallationID: 2, GitHubAppPrivateKeyFile: "/nonexistent/app.pem"})
	require.ErrorContains(t, err, "/nonexistent/app.pem")
	require.NotContains(t, err.Error(), "STATUS_PROVIDER")
}

func TestCommitLinks(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"github", map[string]string{"CONFIG_REPO": "git@github.com:team/config.git"}, "https://github.com/team/config/commit/" + sha},
		{"gitlab self-managed", map[string]string{"CONFIG_REPO": "https://git.example.com/group/config.git", "GITLAB_URL": "https://git.example.com"},
			"https://git.example.com/group/config/-/commit/" + sha},
		{"COMMIT_URL first", map[string]string{"CONFIG_REPO": "https://github.com/team/config.git", "COMMIT_URL": "https://cgit.example.com/config/commit/?id={sha}"},
			"https://cgit.example.com/config/commit/?id=" + sha},
		{"unknown forge", map[string]string{"CONFIG_REPO": "https://git.example.com/config.git"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"CLUSTER_NAME": "c1", "MANAGED_NAMESPACES": "app"}
			for k, v := range tc.env {
				env[k] = v
			}
			cfg, err := parseWith(t, env)
			require.NoError(t, err)
			link := commitLinks(cfg)
			if tc.want == "" {
				require.Nil(t, link)
				return
			}
			require.Equal(t, tc.want, link(sha))
		})
	}
}
