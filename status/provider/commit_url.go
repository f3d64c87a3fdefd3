package provider

import (
	"net/url"
	"strings"

	"github.com/syncgate/syncgate/status/gitlabstatus"
)

// CommitURL returns a function giving the web page of a commit of repoURL
// on forge (GitHub, or Gitea and Forgejo, which share its layout: /commit/;
// GitLab: /-/commit/), or nil when forge is None or the URL names no
// project. An https:// or http:// repo is linked on its own scheme, host
// and port; an ssh:// or scp-like one on https:// and its host.
func CommitURL(repoURL, forge string) func(sha string) string {
	if forge != GitHub && forge != GitLab {
		return nil
	}
	path, err := gitlabstatus.ProjectPath(repoURL)
	if err != nil {
		return nil
	}
	base := "https://" + gitlabstatus.Host(repoURL)
	if u, err := url.Parse(repoURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
		base = u.Scheme + "://" + u.Host
	}
	if strings.HasSuffix(base, "://") {
		return nil
	}
	page := base + "/" + path + "/commit/"
	if forge == GitLab {
		page = base + "/" + path + "/-/commit/"
	}
	return func(sha string) string { return page + url.PathEscape(sha) }
}
