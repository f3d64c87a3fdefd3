package main

import (
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/provider"
)

// chooseForge builds the commit-status reporter the settings ask for, or
// says why there is none. Its errors name the setting that cannot work
// (the repo path, a GitHub App key), so they are passed on as they are.
func chooseForge(cfg *config) (status.Reporter, string, error) {
	r, why, err := provider.Choose(cfg.Repo, cfg.StatusProvider, forgeConfig(cfg))
	if err != nil {
		return nil, "", err
	}
	return r, why, nil
}

// chooseDeployments builds the deployment reporter the settings ask for, or
// says why there is none.
func chooseDeployments(cfg *config, branch func() string) (status.Reporter, string, error) {
	return provider.ChooseDeployments(cfg.Repo, cfg.StatusProvider, forgeConfig(cfg), provider.Deployments{Branch: branch})
}

// commitLinks links the status page's commits to the forge that hosts the
// config repo (the one commit statuses go to), or returns nil to link
// them to /status/<sha>.
func commitLinks(cfg *config) func(sha string) string {
	forge, _, err := provider.Decide(cfg.Repo, cfg.StatusProvider, forgeConfig(cfg))
	if err != nil {
		return nil
	}
	return provider.CommitURL(cfg.Repo, forge)
}

func forgeConfig(cfg *config) provider.Config {
	return provider.Config{
		Cluster: cfg.Cluster, PublicURL: cfg.PublicURL,
		GitHubToken: cfg.GitHubToken, GitHubAppID: cfg.GitHubAppID, GitHubAppInstallationID: cfg.GitHubAppInstallationID,
		GitHubAppPrivateKeyFile: cfg.GitHubAppPrivateKeyFile, GitHubAPIURL: cfg.GitHubAPIURL,
		GitLabToken: cfg.GitLabToken, GitLabURL: cfg.GitLabURL,
	}
}
