package main

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/syncgate/syncgate/sync/gitsource"
)

// checkExposure refuses settings that would hand syncgate's credentials to
// others: its own namespace managed (a pod of the config repo could mount
// syncgate's Secret there), credentials in a URL setting, or credentials
// sent over plain http. Each has a setting that allows it on purpose.
func (c *config) checkExposure(ownNamespace string) error {
	if ownNamespace != "" && !c.AllowOwnNamespace && slices.Contains(c.Namespaces, ownNamespace) {
		return settingError("namespaces", "%q, the namespace syncgate runs in, would be managed (named, or the default when none is): "+
			"a pod of the config repo could mount syncgate's credentials there; name other namespaces, or set ALLOW_OWN_NAMESPACE=true", ownNamespace)
	}
	urls := []struct {
		flag, val string
		creds     bool // credentials go to it
	}{
		{"github-api-url", c.GitHubAPIURL, c.GitHubToken != "" || c.GitHubAppID != 0},
		{"gitlab-url", c.GitLabURL, c.GitLabToken != ""},
		{"s3-endpoint", c.S3Endpoint, c.S3Bucket != ""}, // every request is signed with the AWS credentials
		{"public-url", c.PublicURL, false},
	}
	for _, u := range urls {
		if p, err := url.Parse(u.val); err == nil && p.User != nil {
			return settingError(u.flag, "credentials in the URL are not accepted (%s)", gitsource.RedactURL(u.val))
		}
	}
	if c.AllowInsecureHTTP {
		return nil
	}
	if r, err := url.Parse(c.Repo); err == nil && plainHTTP(c.Repo) && (c.GitToken != "" || r.User != nil) {
		return settingError("repo", "%s is plain http: GIT_TOKEN would cross the network in clear text; use https, or set ALLOW_INSECURE_HTTP=true",
			gitsource.RedactURL(c.Repo))
	}
	for _, u := range urls {
		if u.creds && plainHTTP(u.val) {
			return settingError(u.flag, "%s is plain http: credentials would cross the network in clear text; use https, or set ALLOW_INSECURE_HTTP=true",
				gitsource.RedactURL(u.val))
		}
	}
	return nil
}

// plainHTTP tells whether raw is an http:// URL whose host is not this
// machine: the loopback never leaves the host, so local fakes and the demo
// need no exception.
func plainHTTP(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, "http") {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
