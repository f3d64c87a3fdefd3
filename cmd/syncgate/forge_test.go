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
