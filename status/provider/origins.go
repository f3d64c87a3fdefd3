package provider

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/syncgate/syncgate/repourl"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/githubdeploy"
	"github.com/syncgate/syncgate/status/githubstatus"
	"github.com/syncgate/syncgate/status/gitlabdeploy"
	"github.com/syncgate/syncgate/status/gitlabstatus"
	"github.com/syncgate/syncgate/status/origin"
)

// ChooseOrigins builds the reporter of application commits: each forge
// whose credentials are set (GitHub: github.com and GITHUB_API_URL's host;
// GitLab: gitlab.com and GITLAB_URL's host; owner/name on the config
// repo's forge) gets the commit status and, unless DEPLOYMENTS=off, the
// deployment of each origin commit on it (with DEPLOYMENTS unset, where the
// token may make deployments: the status alone elsewhere). With no credentials at all it
// returns no reporter and one reason for a log line.
func ChooseOrigins(repoURL, statusProvider string, cfg Config, d Deployments) (status.Reporter, string, error) {
	own, _, err := Decide(repoURL, statusProvider, cfg)
	if err != nil {
		return nil, "", err
	}
	if own == None {
		own, _, _ = Decide(repoURL, "", cfg) // statuses off on the config repo; origins may still be on its forge
	}
	deployments := !strings.EqualFold(strings.TrimSpace(d.Mode), Off)
	var without *statusOnly // DEPLOYMENTS unset: deployments where the token may
	if strings.TrimSpace(d.Mode) == "" {
		without = &statusOnly{repos: map[string]bool{}}
	}
	if d.Naming == nil {
		if d, err = withDefaults(d); err != nil {
			return nil, "", err
		}
	}
	configHost := ""
	if u, err := repourl.Parse(repoURL); err == nil {
		configHost = u.Host
	}
	var forges []origin.Forge
	var names []string
	if cfg.hasGitHub() {
		f, err := githubOrigins(cfg, d, deployments, without)
		if err != nil {
			return nil, "", err
		}
		f.Hosts = hosts(own == GitHub, configHost, "github.com", hostOf(cfg.GitHubAPIURL))
		forges, names = append(forges, f), append(names, "GitHub ("+strings.Join(shown(f.Hosts), ", ")+")")
	}
	if cfg.GitLabToken != "" {
		f, err := gitlabOrigins(cfg, d, deployments, without)
		if err != nil {
			return nil, "", err
		}
		f.Hosts = hosts(own == GitLab, configHost, "gitlab.com", hostOf(cfg.GitLabURL))
		forges, names = append(forges, f), append(names, "GitLab ("+strings.Join(shown(f.Hosts), ", ")+")")
	}
	if len(forges) == 0 {
		return nil, "application commits off: neither GitHub nor GitLab credentials are set", nil
	}
	r, err := origin.New(forges...)
	if err != nil {
		return nil, "", err
	}
	what := "statuses and deployments"
	if !deployments {
		what = "statuses"
	}
	return r, fmt.Sprintf("application commits named by %s trailers get %s on %s", origin.Trailer, what, strings.Join(names, " and ")), nil
}

func withDefaults(d Deployments) (Deployments, error) {
	n, err := deploymentNaming()
	d.Naming = n
	return d, err
}

// hosts lists the hosts a forge reaches: its public host, the host of its
// API URL, and for the config repo's forge that repo's host and owner/name
// written without one ("").
func hosts(own bool, configHost string, more ...string) []string {
	var out []string
	add := func(h string) {
		for _, o := range out {
			if o == h {
				return
			}
		}
		out = append(out, h)
	}
	if own {
		add("")
		if configHost != "" {
			add(configHost)
		}
	}
	for _, h := range more {
		if h != "" {
			add(h)
		}
	}
	return out
}

func shown(hosts []string) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		if h == "" {
			h = "owner/name"
		}
		out[i] = h
	}
	return out
}

// statusOnly are the application repos where the token may not make
// deployments, with DEPLOYMENTS unset: their commits get the status alone,
// and their deployments are not asked for again while the process lives.
// With DEPLOYMENTS set, such a refusal is the repo's like any other.
type statusOnly struct {
	mu    sync.Mutex
	repos map[string]bool
}

// post makes the deployment unless repo refused one before; a refusal
// denied says is about deployments puts repo on the list.
func (s *statusOnly) post(repo string, denied func(error) bool, deploy func() error) error {
	if s == nil {
		return deploy()
	}
	s.mu.Lock()
	skip := s.repos[repo]
	s.mu.Unlock()
	if skip {
		return nil
	}
	err := deploy()
	if err != nil && status.IsPermanent(err) && denied(err) {
		s.mu.Lock()
		s.repos[repo] = true
		s.mu.Unlock()
		return nil
	}
	return err
}

func githubOrigins(cfg Config, d Deployments, deployments bool, without *statusOnly) (origin.Forge, error) {
	client, err := cfg.githubClient()
	if err != nil {
		return origin.Forge{}, err
	}
	return origin.Forge{Name: "GitHub", Post: func(ctx context.Context, project, sha string, u status.Update) error {
		owner, repo, ok := strings.Cut(project, "/")
		if !ok || strings.Contains(repo, "/") {
			return status.Permanent(fmt.Errorf("%q is not a GitHub owner/name", project))
		}
		st, err := githubstatus.New(githubstatus.Options{Client: client, Owner: owner, Repo: repo, Cluster: cfg.Cluster, PublicURL: cfg.PublicURL})
		if err != nil {
			return err
		}
		if err := st.ReportOn(ctx, sha, u); err != nil || !deployments {
			return err
		}
		dep, err := githubdeploy.New(githubdeploy.Options{Options: githubstatus.Options{Client: client, Owner: owner, Repo: repo,
			Cluster: cfg.Cluster, PublicURL: cfg.PublicURL}, Naming: d.Naming, Transient: d.Transient})
		if err != nil {
			return err
		}
		return without.post("github:"+project, githubdeploy.Denied, func() error { return dep.ReportOn(ctx, sha, u) })
	}}, nil
}

func gitlabOrigins(cfg Config, d Deployments, deployments bool, without *statusOnly) (origin.Forge, error) {
	client, err := gitlabstatus.NewClient(cfg.GitLabURL, cfg.GitLabToken)
	if err != nil {
		return origin.Forge{}, err
	}
	return origin.Forge{Name: "GitLab", Post: func(ctx context.Context, project, sha string, u status.Update) error {
		st, err := gitlabstatus.New(gitlabstatus.Options{Client: client, Project: project, Cluster: cfg.Cluster, PublicURL: cfg.PublicURL})
		if err != nil {
			return err
		}
		if err := st.ReportOn(ctx, sha, u); err != nil || !deployments {
			return err
		}
		dep, err := gitlabdeploy.New(gitlabdeploy.Options{Client: client, Project: project, Cluster: cfg.Cluster, Naming: d.Naming})
		if err != nil {
			return err
		}
		// The application's branch is not known: the deployment names
		// the commit itself as its ref.
		return without.post("gitlab:"+project, gitlabdeploy.Denied, func() error { return dep.ReportOn(ctx, sha, sha, u) })
	}}, nil
}
