package origin

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/syncgate/syncgate/repourl"
)

// Trailer is the key of the trailer naming an application commit.
const Trailer = "Syncgate-Origin"

// MaxPerCommit bounds the origins taken from one commit message.
const MaxPerCommit = 10

// Ref is one application commit: a repository (a URL, or owner/name on the
// config repo's forge) and a full sha.
type Ref struct {
	Repo string
	SHA  string
}

// String is the form a trailer holds: repo@sha.
func (r Ref) String() string { return r.Repo + "@" + r.SHA }

// key names r's repository whatever the case it was written in.
func (r Ref) key() string { return strings.ToLower(r.Host() + "/" + r.Project()) }

// Host is the repository's host in lower case, "" for owner/name.
func (r Ref) Host() string {
	if !strings.Contains(r.Repo, "://") && !strings.Contains(strings.SplitN(r.Repo, "/", 2)[0], ":") {
		return ""
	}
	u, err := repourl.Parse(r.Repo)
	if err != nil {
		return ""
	}
	return u.Host
}

// Project is the repository's path: owner/name, group/sub/project.
func (r Ref) Project() string {
	if r.Host() == "" {
		return strings.Trim(strings.TrimSuffix(strings.Trim(r.Repo, "/"), ".git"), "/")
	}
	u, _ := repourl.Parse(r.Repo)
	return u.Project()
}

// ParseRef reads repo@sha: the sha is what follows the last @ (a URL may
// hold another, git@host:owner/name), 40 or 64 hex digits; the repo must
// name a path of at least two segments.
func ParseRef(s string) (Ref, error) {
	s = strings.TrimSpace(s)
	i := strings.LastIndex(s, "@")
	if i <= 0 {
		return Ref{}, fmt.Errorf("%q is not <repo>@<sha>", s)
	}
	r := Ref{Repo: strings.TrimSpace(s[:i]), SHA: strings.ToLower(strings.TrimSpace(s[i+1:]))}
	if !fullSHA(r.SHA) {
		return Ref{}, fmt.Errorf("%q: %q is not a full commit sha", repourl.Redact(r.Repo), r.SHA)
	}
	if strings.Contains(r.Repo, "://") || r.Host() != "" {
		u, err := repourl.Parse(r.Repo)
		if err != nil {
			return Ref{}, err
		}
		if u.HasPassword() || (u.User != nil && strings.HasPrefix(u.Scheme, "http")) {
			return Ref{}, fmt.Errorf("%q: a repo URL in a commit message must hold no credentials", repourl.Redact(r.Repo))
		}
	}
	if !strings.Contains(r.Project(), "/") {
		return Ref{}, fmt.Errorf("%q names no owner/name", r.Repo)
	}
	return r, nil
}

func fullSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}

// Parse reads the Syncgate-Origin trailers of a commit message (the key in
// any case, one origin per line, several allowed), in order, without
// repeats, at most MaxPerCommit; lines that do not parse are returned as
// errors beside the refs, so nothing is guessed.
func Parse(message string) ([]Ref, []error) {
	var refs []Ref
	var errs []error
	seen := map[Ref]bool{}
	sc := bufio.NewScanner(strings.NewReader(message))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(key), Trailer) {
			continue
		}
		r, err := ParseRef(value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", Trailer, err))
			continue
		}
		if seen[r] || len(refs) >= MaxPerCommit {
			continue
		}
		seen[r] = true
		refs = append(refs, r)
	}
	return refs, errs
}

// Strings is refs in their trailer form.
func Strings(refs []Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	return out
}
