package gitlabstatus

import (
	"fmt"
	"strings"

	"github.com/syncgate/syncgate/repourl"
)

// ProjectPath is the project's full path (group/subgroup/project) in a repo
// URL: https://, ssh:// or scp-like (git@host:group/project.git), with
// credentials, a trailing slash and .git removed.
func ProjectPath(repoURL string) (string, error) {
	u, err := repourl.Parse(repoURL)
	if err != nil {
		return "", err
	}
	p := u.Project()
	if p == "" {
		return "", fmt.Errorf("%q has no repository path", repourl.Redact(repoURL))
	}
	if !strings.Contains(p, "/") {
		return "", fmt.Errorf("cannot find a group/project path in %q", repourl.Redact(repoURL))
	}
	return p, nil
}
