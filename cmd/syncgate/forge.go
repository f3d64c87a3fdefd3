package main

import (
	"log/slog"
	"net/url"
	"strings"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/deployment"
	"github.com/syncgate/syncgate/status/origin"
	"github.com/syncgate/syncgate/status/provider"
	"github.com/syncgate/syncgate/sync/gitsource"
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

// forgeSink is one forge reporter and where it reports, for the start-up line.
type forgeSink struct {
	reporter status.Reporter
	why      string
}

// forgeReporters builds what reports to the forges: commit statuses,
// deployments, and the application commits the config commits name
// (with the lookup of those, for the outbox). Each one that is off says
// why in a log line.
func forgeReporters(cfg *config, logger *slog.Logger, src *gitsource.Source) ([]forgeSink, func(string) []string, error) {
	var out []forgeSink
	add := func(what string, r status.Reporter, why string, err error) error {
		switch {
		case err != nil:
			return err
		case r == nil:
			logger.Info(what+" off", "reason", why)
		default:
			out = append(out, forgeSink{reporter: r, why: why})
		}
		return nil
	}
	fc := forgeConfig(cfg)
	r, why, err := chooseForge(cfg)
	if err := add("commit statuses", r, why, err); err != nil {
		return nil, nil, err
	}
	naming, err := deployment.NewNaming(cfg.DeploymentEnvironment, cfg.DeploymentEnvironmentURL)
	if err != nil {
		return nil, nil, err
	}
	d := provider.Deployments{Mode: cfg.Deployments, Naming: naming, Transient: cfg.DeploymentTransient, Branch: src.Branch}
	r, why, err = provider.ChooseDeployments(cfg.Repo, cfg.StatusProvider, fc, d)
	if err := add("deployments", r, why, err); err != nil {
		return nil, nil, err
	}
	if !cfg.OriginReports {
		logger.Info("application commits off", "reason", "ORIGIN_REPORTS=false")
		return out, nil, nil
	}
	r, why, err = provider.ChooseOrigins(cfg.Repo, cfg.StatusProvider, fc, d)
	if err := add("application commits", r, why, err); err != nil || r == nil {
		return out, nil, err
	}
	return out, func(sha string) []string { return originsOf(src, sha, logger) }, nil
}

// originsOf reads the application commits a config commit names.
func originsOf(src *gitsource.Source, sha string, logger *slog.Logger) []string {
	msg, err := src.Message(sha)
	if err != nil {
		logger.Warn("cannot read the commit message for its origins", "sha", sha, "err", err)
		return nil
	}
	refs, errs := origin.Parse(msg)
	for _, err := range errs {
		logger.Warn("origin trailer ignored", "sha", sha, "err", err)
	}
	return origin.Strings(refs)
}

// commitLinks links the status page's commits to COMMIT_URL, else to the
// forge that hosts the config repo (the one commit statuses go to), or
// returns nil to link them to /status/<sha>.
func commitLinks(cfg *config) func(sha string) string {
	if cfg.CommitURL != "" {
		return func(sha string) string { return strings.ReplaceAll(cfg.CommitURL, "{sha}", url.PathEscape(sha)) }
	}
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
