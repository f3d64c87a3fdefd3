package gitlabstatus

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// scpLike matches user@host:path, git's short SSH form.
var scpLike = regexp.MustCompile(`^(?:[^@/]+@)?([^:/]+):(.+)$`)

// ProjectPath is the project's full path (group/subgroup/project) in a repo
// URL: https://, ssh:// or scp-like (git@host:group/project.git), with
// credentials, a trailing slash and .git removed.
func ProjectPath(repoURL string) (string, error) {
	p, err := repoPath(repoURL)
	if err != nil {
		return "", err
	}
	if !strings.Contains(p, "/") {
		return "", fmt.Errorf("cannot find a group/project path in %q", redact(repoURL))
	}
	return p, nil
}

// repoPath is the path part of a repo URL without .git or slashes around.
func repoPath(raw string) (string, error) {
	var p string
	if !strings.Contains(raw, "://") {
		m := scpLike.FindStringSubmatch(raw)
		if m == nil {
			return "", fmt.Errorf("%q is not an https://, ssh:// or user@host:path repo URL", redact(raw))
		}
		p = m[2]
	} else {
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("%q is not a repo URL: %w", redact(raw), err)
		}
		p = u.Path
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	p = strings.Trim(p, "/")
	if p == "" {
		return "", fmt.Errorf("%q has no repository path", redact(raw))
	}
	return p, nil
}

// Host is the host name of a repo URL (https, ssh or scp-like), or "".
func Host(repoURL string) string {
	if !strings.Contains(repoURL, "://") {
		if m := scpLike.FindStringSubmatch(repoURL); m != nil {
			return strings.ToLower(m[1])
		}
		return ""
	}
	if u, err := url.Parse(repoURL); err == nil {
		return strings.ToLower(u.Hostname())
	}
	return ""
}

// redact drops credentials from a URL for error messages.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = url.User("redacted")
		return u.String()
	}
	return raw
}
