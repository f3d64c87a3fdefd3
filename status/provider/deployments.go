package provider

import (
	"fmt"
	"strings"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/deployment"
	"github.com/syncgate/syncgate/status/githubdeploy"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/status/gitlabdeploy"
	"github.com/syncgate/syncgate/status/gitlabstatus"
)

// Off turns deployments off (DEPLOYMENTS=off).
const Off = "off"

// Deployments configure the deployment sinks.
type Deployments struct {
	// Mode is DEPLOYMENTS: github, gitlab or off; empty follows the
	// commit-status provider when it has credentials.
	Mode string
	// Naming names each namespace's environment and its URL (default
	// <cluster>/<namespace>, no URL).
	Naming *deployment.Naming
	// Transient marks GitHub deployments transient_environment.
	Transient bool
	// Branch is the followed branch, the ref of GitLab deployments.
	Branch func() string
}

// ChooseDeployments builds the deployment reporter for repoURL: the forge
// DEPLOYMENTS names, else the one commit statuses go to (see Decide,
// statusProvider is STATUS_PROVIDER) for as long as the forge lets the
// token make deployments (deployment.Optional). With none, it returns no
// reporter and one reason for a log line. Asking for a forge without its
// credentials, or for an unknown one, is an error.
func ChooseDeployments(repoURL, statusProvider string, cfg Config, d Deployments) (status.Reporter, string, error) {
	mode := strings.ToLower(strings.TrimSpace(d.Mode))
	why := "DEPLOYMENTS=" + mode
	switch mode {
	case Off:
		return nil, "deployments off: DEPLOYMENTS=off", nil
	case GitHub, GitLab:
		if mode == GitHub && !cfg.hasGitHub() {
			return nil, "", fmt.Errorf("DEPLOYMENTS=github needs GITHUB_TOKEN or a GitHub App")
		}
		if mode == GitLab && cfg.GitLabToken == "" {
			return nil, "", fmt.Errorf("DEPLOYMENTS=gitlab needs GITLAB_TOKEN")
		}
	case "":
		p, reason, err := Decide(repoURL, statusProvider, cfg)
		if err != nil {
			return nil, "", err
		}
		if (p == GitHub && !cfg.hasGitHub()) || (p == GitLab && cfg.GitLabToken == "") || p == None {
			return nil, "deployments off: commit statuses are off (" + reason + ")", nil
		}
		mode, why = p, "with commit statuses: "+reason
	default:
		return nil, "", fmt.Errorf("DEPLOYMENTS %q is not github, gitlab or off", d.Mode)
	}
	if d.Naming == nil {
		n, err := deploymentNaming()
		if err != nil {
			return nil, "", err
		}
		d.Naming = n
	}
	optional := strings.TrimSpace(d.Mode) == ""
	if mode == GitLab {
		r, why, err := chooseGitLabDeployments(repoURL, why, cfg, d)
		if err != nil || !optional {
			return r, why, err
		}
		return deployment.NewOptional(r, gitlabdeploy.Denied), why + ", while the token may", nil
	}
	owner, repo, err := OwnerRepo(repoURL)
	if err != nil {
		return nil, "", fmt.Errorf("deployments on GitHub: %w", err)
	}
	client, err := cfg.githubClient()
	if err != nil {
		return nil, "", err
	}
	r, err := githubdeploy.New(githubdeploy.Options{
		Options: githubstatus.Options{Client: client, Owner: owner, Repo: repo, Cluster: cfg.Cluster, PublicURL: cfg.PublicURL},
		Naming:  d.Naming, Transient: d.Transient})
	if err != nil {
		return nil, "", err
	}
	why = fmt.Sprintf("deployments on GitHub %s/%s with a %s (%s)", owner, repo, cfg.githubAuth(), why)
	if optional {
		return deployment.NewOptional(r, githubdeploy.Denied), why + ", while the token may", nil
	}
	return r, why, nil
}

func chooseGitLabDeployments(repoURL, why string, cfg Config, d Deployments) (status.Reporter, string, error) {
	project, err := gitlabstatus.ProjectPath(repoURL)
	if err != nil {
		return nil, "", fmt.Errorf("deployments on GitLab: %w", err)
	}
	client, err := gitlabstatus.NewClient(cfg.GitLabURL, cfg.GitLabToken)
	if err != nil {
		return nil, "", err
	}
	r, err := gitlabdeploy.New(gitlabdeploy.Options{Client: client, Project: project, Cluster: cfg.Cluster, Naming: d.Naming, Branch: d.Branch})
	if err != nil {
		return nil, "", err
	}
	return r, fmt.Sprintf("deployments on GitLab %s (%s)", project, why), nil
}

// deploymentNaming is the default: <cluster>/<namespace>, no URL.
func deploymentNaming() (*deployment.Naming, error) { return deployment.NewNaming("", "") }
