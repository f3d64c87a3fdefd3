// Package repourl reads a git repository address the way git does
// (scheme://[user@]host[:port]/path, or the scp-like [user@]host:path),
// names its host and path, and redacts its credentials. It is the one
// parser of repo URLs: settings, the fetcher's credentials, forge statuses
// and webhooks all read an address through it.
package repourl

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// URL is a parsed repository address.
type URL struct {
	// Scheme is lower case: https, http, ssh, file...; "ssh" for the
	// scp-like form.
	Scheme string
	// SCP is true for the scp-like form (git@host:group/repo.git).
	SCP bool
	// User is the address's user information, nil when it has none.
	User *url.Userinfo
	// Host is the host name in lower case, without port; "" for file://.
	Host string
	// Port is the port as written, "" when none.
	Port string
	// Path is the path as written: "/group/repo.git", or "group/repo.git"
	// in the scp-like form.
	Path string
}

// scpLike is git's short SSH form, [user@]host:path. Git takes an address
// for it only when it has no "://" and no slash before its first colon.
var scpLike = regexp.MustCompile(`^(?:([^@/]+)@)?([^:/]+):(.+)$`)

// Parse reads raw as git would. A local path (no scheme, not scp-like) is
// refused; so is anything url.Parse refuses. The error never holds raw's
// credentials.
func Parse(raw string) (URL, error) {
	raw = strings.TrimSpace(raw)
	if !strings.Contains(raw, "://") {
		m := scpLike.FindStringSubmatch(raw)
		if m == nil {
			return URL{}, fmt.Errorf("%q is not a repo URL: scheme://host/path or [user@]host:path", Redact(raw))
		}
		u := URL{Scheme: "ssh", SCP: true, Host: strings.ToLower(m[2]), Path: m[3]}
		if m[1] != "" {
			u.User = url.User(m[1])
		}
		return u, nil
	}
	p, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats raw, credentials included
		}
		return URL{}, fmt.Errorf("%q is not a URL: %w", Redact(raw), err)
	}
	return URL{
		Scheme: strings.ToLower(p.Scheme),
		User:   p.User,
		Host:   strings.ToLower(p.Hostname()),
		Port:   p.Port(),
		Path:   p.Path,
	}, nil
}

// Project is the repository's path without slashes around it or ".git":
// "group/sub/repo". It is "" when the address names no path.
func (u URL) Project() string {
	p := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	return strings.Trim(p, "/")
}

// Key names the repository whatever the form it is written in: host and
// project in lower case, without scheme, credentials or port. Two
// addresses of one repository (https and scp-like, say) have one key.
func (u URL) Key() string {
	return strings.ToLower(u.Host + "/" + u.Project())
}

// HasPassword tells whether the address carries a password.
func (u URL) HasPassword() bool {
	if u.User == nil {
		return false
	}
	_, ok := u.User.Password()
	return ok
}

var userinfo = regexp.MustCompile(`//[^/@]+@`)

// Redact drops credentials from an address before it is shown anywhere,
// even where it does not parse; scp-like addresses (git@host:path) name
// a user and no secret, and are shown as written.
func Redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil && strings.Contains(raw, "://") {
		u.User = nil
		return u.String()
	}
	return userinfo.ReplaceAllString(raw, "//")
}
