package main

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/syncgate/syncgate/repourl"
)

// checkExposure refuses settings that would hand syncgate's credentials to
// others: its own namespace managed (a pod of the config repo could mount
// syncgate's Secret there), credentials in a URL setting, or credentials
// sent over plain http. Each has a setting that allows it on purpose.
func (c *config) checkExposure(ownNamespace string) error {
	if ownNamespace != "" && !c.AllowOwnNamespace && slices.Contains(c.Namespaces, ownNamespace) {
		return c.invalid(&c.Namespaces, "%q, the namespace syncgate runs in, would be managed (named, or the default when none is): "+
			"a pod of the config repo could mount syncgate's credentials there; name other namespaces, or set ALLOW_OWN_NAMESPACE=true", ownNamespace)
	}
	urls := []struct {
		val   *string
		creds bool // credentials go to it
	}{
		{&c.GitHubAPIURL, c.GitHubToken != "" || c.GitHubAppID != 0},
		{&c.GitLabURL, c.GitLabToken != ""},
		{&c.S3Endpoint, c.S3Bucket != ""}, // every request is signed with the AWS credentials
		{&c.PublicURL, false},
	}
	for _, u := range urls {
		if p, err := url.Parse(*u.val); err == nil && p.User != nil {
			return c.invalid(u.val, "credentials in the URL are not accepted (%s)", repourl.Redact(*u.val))
		}
	}
	if c.AllowInsecureHTTP {
		return nil
	}
	if r, err := repourl.Parse(c.Repo); err == nil && plainHTTP(c.Repo) && (c.GitToken != "" || r.User != nil) {
		return c.invalid(&c.Repo, "%s is plain http: GIT_TOKEN would cross the network in clear text; use https, or set ALLOW_INSECURE_HTTP=true",
			repourl.Redact(c.Repo))
	}
	for _, u := range urls {
		if u.creds && plainHTTP(*u.val) {
			return c.invalid(u.val, "%s is plain http: credentials would cross the network in clear text; use https, or set ALLOW_INSECURE_HTTP=true",
				repourl.Redact(*u.val))
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
