package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/syncgate/syncgate/repourl"
)

// pushEvent is the part of GitHub's and GitLab's push payloads used here.
type pushEvent struct {
	Ref   string
	After string
	// URLs and Name are every address of the repository the payload
	// names (GitHub's repository, GitLab's project and repository).
	URLs []string
	Name string
}

// repoFields are the addresses GitHub's repository, and GitLab's project
// and repository, give.
type repoFields struct {
	CloneURL   string `json:"clone_url"`
	SSHURL     string `json:"ssh_url"`
	HTMLURL    string `json:"html_url"`
	GitURL     string `json:"git_url"`
	URL        string `json:"url"`
	GitHTTPURL string `json:"git_http_url"`
	GitSSHURL  string `json:"git_ssh_url"`
	WebURL     string `json:"web_url"`
	Homepage   string `json:"homepage"`
	FullName   string `json:"full_name"`
	PathWithNS string `json:"path_with_namespace"`
}

// readPush reads what pushEvent needs from a JSON payload without holding
// the payload: ref, after, repository and project are decoded, every other
// top-level value is skipped token by token, and reading stops once ref,
// after and a repository or project were seen (forges send them before
// the commits). Memory is bounded by the largest of those values or of a
// single token, not by the payload.
func readPush(r io.Reader) (pushEvent, error) {
	var ev pushEvent
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ev, errors.New("not a JSON object")
	}
	var ref, after, repo bool
	for dec.More() && !(ref && after && repo) {
		tok, err := dec.Token()
		if err != nil {
			return ev, err
		}
		key, _ := tok.(string)
		switch key {
		case "ref":
			ref, err = true, dec.Decode(&ev.Ref)
		case "after":
			after, err = true, dec.Decode(&ev.After)
		case "repository", "project":
			var f repoFields
			if err = dec.Decode(&f); err == nil {
				repo = true
				ev.add(f)
			}
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return ev, fmt.Errorf("payload field %q: %w", truncate(key, 32), err)
		}
	}
	return ev, nil
}

func (ev *pushEvent) add(f repoFields) {
	for _, u := range []string{f.CloneURL, f.SSHURL, f.HTMLURL, f.GitURL, f.URL, f.GitHTTPURL, f.GitSSHURL, f.WebURL, f.Homepage} {
		if u != "" {
			ev.URLs = append(ev.URLs, u)
		}
	}
	for _, n := range []string{f.FullName, f.PathWithNS} {
		if n != "" && ev.Name == "" {
			ev.Name = n
		}
	}
}

// skipValue reads past one JSON value.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// repoKey is a repository address as host/path: lower case, without
// scheme, credentials, port, ".git" or surrounding slashes; "" when raw is
// not an address.
func repoKey(raw string) string {
	u, err := repourl.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Key()
}

// sameRepo tells whether the payload is about the followed remote: one of
// its addresses is the remote's host and path, or its name (owner/repo,
// group/project) is the remote's path. A payload that names no repository
// at all, which no forge sends, is taken as about the remote: whoever holds
// the secret could name the remote as easily.
func (ev pushEvent) sameRepo(remote string) bool {
	want := repoKey(remote)
	if want == "" || (len(ev.URLs) == 0 && ev.Name == "") {
		return true
	}
	for _, u := range ev.URLs {
		if repoKey(u) == want {
			return true
		}
	}
	_, path, _ := strings.Cut(want, "/")
	return ev.Name != "" && strings.EqualFold(strings.Trim(ev.Name, "/"), path)
}

// named is how the payload's repository is shown in an answer.
func (ev pushEvent) named() string {
	if ev.Name != "" {
		return truncate(ev.Name, 128)
	}
	if len(ev.URLs) > 0 {
		return truncate(repoKey(ev.URLs[0]), 128)
	}
	return "an unnamed repository"
}
