package main

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/status/gitlabstatus"
)

var scpHost = regexp.MustCompile(`^[^@/]+@([^:/]+):`)

// repoHost is the host name of the config repo URL.
func repoHost(raw string) string {
	if m := scpHost.FindStringSubmatch(raw); m != nil {
		return m[1]
	}
	if u, err := url.Parse(raw); err == nil {
		return u.Hostname()
	}
	return ""
}

// provider decides where commit statuses go: STATUS_PROVIDER when set, else
// the repo host (github.com, gitlab.com, or the host of GITHUB_API_URL /
// GITLAB_URL), else whichever API URL is configured.
func provider(cfg *config) string {
	if cfg.StatusProvider != "" {
		return cfg.StatusProvider
	}
	host := repoHost(cfg.Repo)
	hostOf := func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			return ""
		}
		return u.Hostname()
	}
	switch {
	case host == "github.com" || (cfg.GitHubAPIURL != "" && hostOf(cfg.GitHubAPIURL) == host):
		return "github"
	case host == "gitlab.com" || (cfg.GitLabURL != "" && hostOf(cfg.GitLabURL) == host):
		return "gitlab"
	case cfg.GitHubAPIURL != "":
		return "github"
	case cfg.GitLabURL != "":
		return "gitlab"
	}
	return "none"
}

// chooseForge builds the commit-status reporter, or says why there is none.
func chooseForge(cfg *config) (status.Reporter, string, error) {
	switch p := provider(cfg); p {
	case "github":
		if cfg.GitHubToken == "" && cfg.GitHubAppID == 0 {
			return nil, "GitHub repo but neither GITHUB_TOKEN nor a GitHub App is set", nil
		}
		owner, repo, err := ownerRepo(cfg.Repo)
		if err != nil {
			return nil, "", settingError("repo", "commit statuses: %v", err)
		}
		client, err := githubstatus.NewClient(cfg.GitHubAPIURL, cfg.GitHubToken, cfg.GitHubAppID, cfg.GitHubAppInstallationID, cfg.GitHubAppPrivateKeyFile)
		if err != nil {
			return nil, "", settingError("github-token", "%v", err)
		}
		r, err := githubstatus.New(githubstatus.Options{Client: client, Owner: owner, Repo: repo, PublicURL: cfg.PublicURL})
		return r, "github " + owner + "/" + repo, err
	case "gitlab":
		if cfg.GitLabToken == "" {
			return nil, "GitLab repo but GITLAB_TOKEN is not set", nil
		}
		project, err := gitlabstatus.ProjectPath(cfg.Repo)
		if err != nil {
			return nil, "", settingError("repo", "commit statuses: %v", err)
		}
		client, err := gitlabstatus.NewClient(cfg.GitLabURL, cfg.GitLabToken)
		if err != nil {
			return nil, "", settingError("gitlab-url", "%v", err)
		}
		r, err := gitlabstatus.New(gitlabstatus.Options{Client: client, Project: project, PublicURL: cfg.PublicURL})
		return r, "gitlab " + project, err
	default:
		return nil, fmt.Sprintf("the repo host %q is neither GitHub nor GitLab (set STATUS_PROVIDER with GITHUB_API_URL or GITLAB_URL)", repoHost(cfg.Repo)), nil
	}
}

// ownerRepo reads owner/repo from the last two path segments of a repo URL.
func ownerRepo(raw string) (string, string, error) {
	path, err := gitlabstatus.ProjectPath(raw)
	if err != nil {
		return "", "", err
	}
	parts := strings.Split(path, "/")
	return parts[len(parts)-2], parts[len(parts)-1], nil
}
