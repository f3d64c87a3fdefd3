package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProviderChoice(t *testing.T) {
	cases := []struct {
		cfg  config
		want string
	}{
		{config{Repo: "https://github.com/acme/config.git"}, "github"},
		{config{Repo: "git@gitlab.com:acme/team/config.git"}, "gitlab"},
		{config{Repo: "https://ghe.example.com/acme/config.git", GitHubAPIURL: "https://ghe.example.com/api/v3/"}, "github"},
		{config{Repo: "https://git.example.com/acme/config.git", GitLabURL: "https://git.example.com"}, "gitlab"},
		{config{Repo: "https://git.example.com/acme/config.git"}, "none"},
		{config{Repo: "https://github.com/acme/config.git", StatusProvider: "none"}, "none"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, provider(&tc.cfg), tc.cfg.Repo)
	}
	r, why, err := chooseForge(&config{Repo: "https://github.com/acme/config.git"})
	require.NoError(t, err)
	require.Nil(t, r)
	require.Contains(t, why, "GITHUB_TOKEN")
	r, why, err = chooseForge(&config{Repo: "git@github.com:acme/config.git", GitHubToken: "t"})
	require.NoError(t, err)
	require.NotNil(t, r)
	require.Equal(t, "github acme/config", why)
}
