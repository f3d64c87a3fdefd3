package forge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Comment is one pull request comment (GitHub issue comment, GitLab
// merge request note).
type Comment struct {
	ID        int64
	Number    int // pull request number / merge request iid
	Body      string
	Author    string
	CreatedAt time.Time
	UpdatedAt time.Time
	Edits     int
}

// pulls are the pull requests a fake knows and their comments.
type pulls struct {
	open     map[string]bool // repo#number
	comments map[string][]*Comment
	nextID   int64
}

func (f *fake) pullsLocked() *pulls {
	if f.prs == nil {
		f.prs = &pulls{open: map[string]bool{}, comments: map[string][]*Comment{}, nextID: 1000}
	}
	return f.prs
}

// OpenPull makes pull (merge) request number exist on repo, so comments
// can be made on it.
func (f *fake) OpenPull(repo string, number int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pullsLocked().open[repo+"#"+strconv.Itoa(number)] = true
}

// Comments are the comments on pull request number of repo, oldest first.
func (f *fake) Comments(repo string, number int) []Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Comment
	for _, c := range f.pullsLocked().comments[repo+"#"+strconv.Itoa(number)] {
		out = append(out, *c)
	}
	return out
}

// comment creates (id 0) or edits a comment; it returns nil when the pull
// request or the comment is unknown.
func (f *fake) comment(repo string, number int, id int64, body, author string) *Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pullsLocked()
	now := time.Now().UTC().Truncate(time.Second)
	if id == 0 {
		k := repo + "#" + strconv.Itoa(number)
		if !p.open[k] {
			return nil
		}
		p.nextID++
		c := &Comment{ID: p.nextID, Number: number, Body: body, Author: author, CreatedAt: now, UpdatedAt: now}
		p.comments[k] = append(p.comments[k], c)
		cp := *c
		return &cp
	}
	for k, list := range p.comments {
		for _, c := range list {
			if c.ID == id && strings.HasPrefix(k, repo+"#") && (number == 0 || k == repo+"#"+strconv.Itoa(number)) {
				c.Body, c.UpdatedAt = body, now
				c.Edits++
				cp := *c
				return &cp
			}
		}
	}
	return nil
}

type ghComment struct {
	ID        int64  `json:"id"`
	NodeID    string `json:"node_id"`
	URL       string `json:"url"`
	HTMLURL   string `json:"html_url"`
	IssueURL  string `json:"issue_url"`
	Body      string `json:"body"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	User      struct {
		Login string `json:"login"`
		ID    int64  `json:"id"`
		Type  string `json:"type"`
	} `json:"user"`
	AuthorAssociation string `json:"author_association"`
}

func (g *GitHub) commentJSON(repo string, c Comment) ghComment {
	api := g.srv.URL + "/api/v3/repos/" + repo
	out := ghComment{ID: c.ID, NodeID: fmt.Sprintf("IC_%d", c.ID), URL: api + "/issues/comments/" + strconv.FormatInt(c.ID, 10),
		HTMLURL:  fmt.Sprintf("%s/%s/pull/%d#issuecomment-%d", g.srv.URL, repo, c.Number, c.ID),
		IssueURL: api + "/issues/" + strconv.Itoa(c.Number), Body: c.Body,
		CreatedAt: c.CreatedAt.Format(time.RFC3339), UpdatedAt: c.UpdatedAt.Format(time.RFC3339), AuthorAssociation: "NONE"}
	out.User.Login, out.User.ID, out.User.Type = "syncgate-bot", 1, "Bot"
	return out
}

// maxGitHubComment is the longest comment body GitHub accepts.
const maxGitHubComment = 65536

// serveComments answers the issue comment endpoints a pull request's
// conversation uses: GET and POST /repos/{o}/{r}/issues/{n}/comments
// (listed oldest first, per_page up to 100, with a Link header), and PATCH
// /repos/{o}/{r}/issues/comments/{id}. It reports whether it answered.
func (g *GitHub) serveComments(w http.ResponseWriter, r *http.Request, repo string, parts []string, body []byte) bool {
	if len(parts) != 6 || parts[3] != "issues" {
		return false
	}
	readBody := func() (string, bool) {
		var in map[string]any
		if err := json.Unmarshal(body, &in); err != nil {
			ghError(w, http.StatusBadRequest, "Problems parsing JSON")
			return "", false
		}
		text, ok := in["body"].(string)
		if !ok || text == "" {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed")
			return "", false
		}
		if utf8.RuneCountInString(text) > maxGitHubComment {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed: body is too long (maximum is 65536 characters)")
			return "", false
		}
		return text, true
	}
	switch {
	case parts[4] == "comments" && r.Method == http.MethodPatch:
		id, err := strconv.ParseInt(parts[5], 10, 64)
		if err != nil {
			ghError(w, http.StatusNotFound, "Not Found")
			return true
		}
		text, ok := readBody()
		if !ok {
			return true
		}
		c := g.comment(repo, 0, id, text, "")
		if c == nil {
			ghError(w, http.StatusNotFound, "Not Found")
			return true
		}
		ghJSON(w, http.StatusOK, g.commentJSON(repo, *c))
	case parts[5] == "comments":
		number, err := strconv.Atoi(parts[4])
		g.mu.Lock()
		open := err == nil && g.pullsLocked().open[repo+"#"+parts[4]]
		g.mu.Unlock()
		if !open {
			ghError(w, http.StatusNotFound, "Not Found")
			return true
		}
		switch r.Method {
		case http.MethodGet:
			list := g.Comments(repo, number)
			perPage, page := pageOf(r, 30, 100)
			from, to := min((page-1)*perPage, len(list)), min(page*perPage, len(list))
			out := make([]ghComment, 0, to-from)
			for _, c := range list[from:to] {
				out = append(out, g.commentJSON(repo, c))
			}
			if to < len(list) {
				u := *r.URL
				q := u.Query()
				q.Set("page", strconv.Itoa(page+1))
				q.Set("per_page", strconv.Itoa(perPage))
				u.RawQuery = q.Encode()
				w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, g.srv.URL, u.RequestURI()))
			}
			ghJSON(w, http.StatusOK, out)
		case http.MethodPost:
			text, ok := readBody()
			if !ok {
				return true
			}
			c := g.comment(repo, number, 0, text, "syncgate-bot")
			ghJSON(w, http.StatusCreated, g.commentJSON(repo, *c))
		default:
			ghError(w, http.StatusNotFound, "Not Found")
		}
	default:
		return false
	}
	return true
}

// pageOf reads page and per_page (GitHub) or per_page and page (GitLab).
func pageOf(r *http.Request, def, most int) (perPage, page int) {
	perPage, page = def, 1
	if n, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && n > 0 {
		perPage = min(n, most)
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 0 {
		page = n
	}
	return perPage, page
}
