package provider

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/google/go-github/v92/github"

	"github.com/syncgate/syncgate/repourl"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/status/gitlabstatus"
)

// Provider names, as STATUS_PROVIDER takes them.
const (
	GitHub = "github"
	GitLab = "gitlab"
	None   = "none"
)

// Config holds what the reporters need; secrets stay out of the reason.
type Config struct {
	// Cluster is CLUSTER_NAME, in every status context.
	Cluster string
	// PublicURL makes statuses link to <PublicURL>/status/<sha>.
	PublicURL string

	GitHubToken string
	// GitHubAppID, GitHubAppInstallationID and GitHubAppPrivateKeyFile
	// authenticate as a GitHub App installation instead of a token.
	GitHubAppID             int64
	GitHubAppInstallationID int64
	GitHubAppPrivateKeyFile string
	// GitHubAPIURL is the API root used as given (GitHub Enterprise,
	// Gitea, Forgejo); empty means api.github.com.
	GitHubAPIURL string

	GitLabToken string
	// GitLabURL is a self-managed instance's base URL; empty means gitlab.com.
	GitLabURL string
}

// Decide names the provider for repoURL: explicit when set (STATUS_PROVIDER:
// github, gitlab or none), else from the repo's host (github.com, gitlab.com,
// or the host of GITHUB_API_URL / GITLAB_URL), else whichever API URL is
// set, else none. The reason says why, for a log line.
func Decide(repoURL, explicit string, cfg Config) (string, string, error) {
	switch p := strings.ToLower(strings.TrimSpace(explicit)); p {
	case GitHub, GitLab, None:
		return p, "STATUS_PROVIDER=" + p, nil
	case "":
	default:
		return "", "", fmt.Errorf("STATUS_PROVIDER %q is not github, gitlab or none", explicit)
	}
	host := ""
	if u, err := repourl.Parse(repoURL); err == nil {
		host = u.Host
	}
	switch {
	case host == "github.com":
		return GitHub, "the config repo is on github.com", nil
	case host == "gitlab.com":
		return GitLab, "the config repo is on gitlab.com", nil
	case host != "" && host == hostOf(cfg.GitHubAPIURL):
		return GitHub, "the config repo is on the host of GITHUB_API_URL", nil
	case host != "" && host == hostOf(cfg.GitLabURL):
		return GitLab, "the config repo is on the host of GITLAB_URL", nil
	case cfg.GitHubAPIURL != "":
		return GitHub, "GITHUB_API_URL is set", nil
	case cfg.GitLabURL != "":
		return GitLab, "GITLAB_URL is set", nil
	}
	return None, fmt.Sprintf("the config repo host %q is neither github.com nor gitlab.com, and neither GITHUB_API_URL nor GITLAB_URL is set (or set STATUS_PROVIDER)", host), nil
}

func hostOf(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// Choose builds the commit-status reporter for repoURL (see Decide). With no
// provider or no credentials for it, it returns no reporter, no error and
// one reason for a log line; with a reporter, the reason says where
// statuses go. Errors are settings that cannot work (an unknown provider, a
// repo URL without owner/repo, an unreadable App key).
func Choose(repoURL, explicit string, cfg Config) (status.Reporter, string, error) {
	p, why, err := Decide(repoURL, explicit, cfg)
	if err != nil {
		return nil, "", err
	}
	switch p {
	case GitHub:
		return chooseGitHub(repoURL, why, cfg)
	case GitLab:
		return chooseGitLab(repoURL, why, cfg)
	}
	return nil, "commit statuses off: " + why, nil
}

func chooseGitHub(repoURL, why string, cfg Config) (status.Reporter, string, error) {
	if !cfg.hasGitHub() {
		return nil, "commit statuses off: GitHub chosen (" + why + ") but neither GITHUB_TOKEN nor a GitHub App is set", nil
	}
	owner, repo, err := OwnerRepo(repoURL)
	if err != nil {
		return nil, "", fmt.Errorf("commit statuses on GitHub: %w", err)
	}
	client, err := cfg.githubClient()
	if err != nil {
		return nil, "", err
	}
	r, err := githubstatus.New(githubstatus.Options{Client: client, Owner: owner, Repo: repo, Cluster: cfg.Cluster, PublicURL: cfg.PublicURL})
	if err != nil {
		return nil, "", err
	}
	return r, fmt.Sprintf("commit statuses on GitHub %s/%s with a %s (%s)", owner, repo, cfg.githubAuth(), why), nil
}

// hasGitHub reports whether GitHub credentials are set.
func (cfg Config) hasGitHub() bool { return cfg.GitHubToken != "" || cfg.GitHubAppID != 0 }

func (cfg Config) githubClient() (*github.Client, error) {
	return githubstatus.NewClient(cfg.GitHubAPIURL, cfg.GitHubToken, cfg.GitHubAppID, cfg.GitHubAppInstallationID, cfg.GitHubAppPrivateKeyFile)
}

func (cfg Config) githubAuth() string {
	if cfg.GitHubAppID != 0 {
		return "GitHub App"
	}
	return "token"
}

func chooseGitLab(repoURL, why string, cfg Config) (status.Reporter, string, error) {
	if cfg.GitLabToken == "" {
		return nil, "commit statuses off: GitLab chosen (" + why + ") but GITLAB_TOKEN is not set", nil
	}
	project, err := gitlabstatus.ProjectPath(repoURL)
	if err != nil {
		return nil, "", fmt.Errorf("commit statuses on GitLab: %w", err)
	}
	client, err := gitlabstatus.NewClient(cfg.GitLabURL, cfg.GitLabToken)
	if err != nil {
		return nil, "", err
	}
	r, err := gitlabstatus.New(gitlabstatus.Options{Client: client, Project: project, Cluster: cfg.Cluster, PublicURL: cfg.PublicURL})
	if err != nil {
		return nil, "", err
	}
	return r, fmt.Sprintf("commit statuses on GitLab %s (%s)", project, why), nil
}

// OwnerRepo reads owner and repository from a repo URL (https, ssh://,
// scp-like): the last two path segments, without .git.
func OwnerRepo(repoURL string) (string, string, error) {
	u, err := repourl.Parse(repoURL)
	if err != nil {
		return "", "", err
	}
	parts := strings.Split(u.Project(), "/")
	if len(parts) < 2 {
		return "", "", fmt.Errorf("cannot find an owner/repo path in %q", repourl.Redact(repoURL))
	}
	return parts[len(parts)-2], parts[len(parts)-1], nil
}
