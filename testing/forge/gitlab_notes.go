package forge

import (
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

type glNote struct {
	ID     int64   `json:"id"`
	Type   *string `json:"type"`
	Body   string  `json:"body"`
	Author struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
	} `json:"author"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
	System       bool   `json:"system"`
	NoteableID   int64  `json:"noteable_id"`
	NoteableType string `json:"noteable_type"`
	NoteableIID  int    `json:"noteable_iid"`
	Resolvable   bool   `json:"resolvable"`
}

func toNote(c Comment) glNote {
	n := glNote{ID: c.ID, Body: c.Body, CreatedAt: c.CreatedAt.Format(time.RFC3339), UpdatedAt: c.UpdatedAt.Format(time.RFC3339),
		NoteableID: int64(c.Number) + 5000, NoteableType: "MergeRequest", NoteableIID: c.Number}
	n.Author.ID, n.Author.Username, n.Author.Name = 1, "syncgate-bot", "syncgate"
	return n
}

// maxGitLabNote is the longest note GitLab accepts.
const maxGitLabNote = 1000000

// serveNotes answers a merge request's notes: GET and POST
// /projects/:id/merge_requests/:iid/notes (listed oldest first with
// X-Next-Page), PUT .../notes/:note_id. parts are the path segments after
// the project id. It reports whether it answered.
func (g *GitLab) serveNotes(w http.ResponseWriter, r *http.Request, project string, parts []string, body []byte) bool {
	if len(parts) < 4 || parts[1] != "merge_requests" || parts[3] != "notes" || len(parts) > 5 {
		return false
	}
	iid, err := strconv.Atoi(parts[2])
	g.mu.Lock()
	open := err == nil && g.pullsLocked().open[project+"#"+parts[2]]
	g.mu.Unlock()
	if !open {
		glError(w, http.StatusNotFound, "404 Not found")
		return true
	}
	readBody := func() (string, bool) {
		in, _ := glParams(r, body)
		text, _ := in["body"].(string)
		if text == "" {
			glError(w, http.StatusBadRequest, "body is missing")
			return "", false
		}
		if utf8.RuneCountInString(text) > maxGitLabNote {
			glError(w, http.StatusBadRequest, "Note is too long (maximum is 1000000 characters)")
			return "", false
		}
		return text, true
	}
	switch {
	case len(parts) == 4 && r.Method == http.MethodGet:
		list := g.Comments(project, iid)
		perPage, page := pageOf(r, 20, 100)
		from, to := min((page-1)*perPage, len(list)), min(page*perPage, len(list))
		out := make([]glNote, 0, to-from)
		for _, c := range list[from:to] {
			out = append(out, toNote(c))
		}
		w.Header().Set("X-Page", strconv.Itoa(page))
		w.Header().Set("X-Per-Page", strconv.Itoa(perPage))
		w.Header().Set("X-Total", strconv.Itoa(len(list)))
		if to < len(list) {
			w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
		} else {
			w.Header().Set("X-Next-Page", "")
		}
		glJSON(w, http.StatusOK, out)
	case len(parts) == 4 && r.Method == http.MethodPost:
		text, ok := readBody()
		if !ok {
			return true
		}
		glJSON(w, http.StatusCreated, toNote(*g.comment(project, iid, 0, text, "syncgate-bot")))
	case len(parts) == 5 && r.Method == http.MethodPut:
		id, err := strconv.ParseInt(parts[4], 10, 64)
		if err != nil {
			glError(w, http.StatusNotFound, "404 Not found")
			return true
		}
		text, ok := readBody()
		if !ok {
			return true
		}
		c := g.comment(project, iid, id, text, "")
		if c == nil {
			glError(w, http.StatusNotFound, "404 Not found")
			return true
		}
		glJSON(w, http.StatusOK, toNote(*c))
	default:
		glError(w, http.StatusNotFound, "404 Not Found")
	}
	return true
}
