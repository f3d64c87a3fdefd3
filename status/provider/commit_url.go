package provider

import (
	"net/url"
	"strings"

	"github.com/syncgate/syncgate/repourl"
)

// CommitURL returns a function giving the web page of a commit of repoURL
// on forge (GitHub, or Gitea and Forgejo, which share its layout: /commit/;
// GitLab: /-/commit/), or nil when forge is None or the URL names no
// group/project. An https:// or http:// repo is linked on its own scheme,
// host and port; an ssh:// or scp-like one on https:// and its host.
func CommitURL(repoURL, forge string) func(sha string) string {
	if forge != GitHub && forge != GitLab {
		return nil
	}
	u, err := repourl.Parse(repoURL)
	if err != nil || u.Host == "" || !strings.Contains(u.Project(), "/") {
		return nil
	}
	base := "https://" + u.Host
	if (u.Scheme == "https" || u.Scheme == "http") && !u.SCP {
		base = u.Scheme + "://" + u.Host
		if u.Port != "" {
			base += ":" + u.Port
		}
	}
	page := base + "/" + u.Project() + "/commit/"
	if forge == GitLab {
		page = base + "/" + u.Project() + "/-/commit/"
	}
	return func(sha string) string { return page + url.PathEscape(sha) }
}
