package forge

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"
)

// GitLab fakes gitlab.com's /api/v4 commit statuses.
type GitLab struct{ *fake }

// NewGitLab serves project paths (group/sub/project) to the given token.
func NewGitLab(token string, projects ...string) *GitLab {
	g := &GitLab{fake: newFake(token, projects)}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	return g
}

func glError(w http.ResponseWriter, code int, msg string) {
	glJSON(w, code, map[string]string{"message": msg})
}

// glJSON writes v as GitLab answers: JSON, no charset.
func glJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// glParams are a request's parameters: GitLab takes them as JSON or as a
// form. The error is JSON's that does not parse.
func glParams(r *http.Request, body []byte) (map[string]any, error) {
	in := map[string]any{}
	if len(body) == 0 {
		return in, nil
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return in, json.Unmarshal(body, &in)
	}
	q, _ := url.ParseQuery(string(body))
	for k := range q {
		in[k] = q.Get(k)
	}
	return in, nil
}

type glStatus struct {
	ID          int64   `json:"id"`
	SHA         string  `json:"sha"`
	Ref         string  `json:"ref"`
	Status      string  `json:"status"`
	Name        string  `json:"name"`
	TargetURL   *string `json:"target_url"`
	Description *string `json:"description"`
	CreatedAt   string  `json:"created_at"`
	Author      struct {
		Username string `json:"username"`
	} `json:"author"`
}

func toGL(s Status) glStatus {
	out := glStatus{ID: s.ID, SHA: s.SHA, Ref: "main", Status: s.State, Name: s.Context,
		TargetURL: optional(s.TargetURL), Description: optional(s.Description), CreatedAt: s.CreatedAt.Format(time.RFC3339)}
	out.Author.Username = "syncgate-bot"
	return out
}

func (g *GitLab) serve(w http.ResponseWriter, r *http.Request) {
	body, handled := g.intercept(w, r)
	if handled {
		return
	}
	tok := r.Header.Get("PRIVATE-TOKEN")
	if tok == "" {
		tok = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if tok != g.token {
		glError(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	}
	// /api/v4/projects/{id}/statuses/{sha} and /api/v4/projects/{id}/repository/commits/{sha}/statuses;
	// the id is a URL-encoded path, so split the raw path.
	raw := strings.TrimPrefix(r.URL.EscapedPath(), "/api/v4/projects/")
	parts := strings.Split(raw, "/")
	if len(parts) < 2 {
		glError(w, http.StatusNotFound, "404 Not Found")
		return
	}
	project, err := url.PathUnescape(parts[0])
	if err != nil || !g.repos[project] {
		glError(w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	if (parts[1] == "deployments" || parts[1] == "environments") && r.Method != http.MethodGet && !g.deploymentsAllowed() {
		glError(w, http.StatusForbidden, "403 Forbidden")
		return
	}
	if g.serveDeployments(w, r, project, parts, body) {
		return
	}
	switch {
	case r.Method == http.MethodPost && len(parts) == 3 && parts[1] == "statuses":
		in, _ := glParams(r, body)
		state, _ := in["state"].(string)
		name, _ := in["name"].(string)
		if name == "" {
			name = "default"
		}
		switch state {
		case "pending", "running", "success", "failed", "canceled", "skipped":
		default:
			glError(w, http.StatusBadRequest, "state does not have a valid value")
			return
		}
		if last, ok := g.Latest(project, parts[2], name); ok && last.State == state {
			glError(w, http.StatusBadRequest, "Cannot transition status via :"+verb(state)+" from :"+last.State+" (Reason(s): Status cannot transition via \""+verb(state)+"\")")
			return
		}
		desc, _ := in["description"].(string)
		target, _ := in["target_url"].(string)
		s := g.store(project, Status{SHA: parts[2], State: state, Context: name, Description: desc, TargetURL: target})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(toGL(s))
	case r.Method == http.MethodGet && len(parts) == 5 && parts[1] == "repository" && parts[2] == "commits" && parts[4] == "statuses":
		st := g.Statuses(project, parts[3])
		out := make([]glStatus, 0, len(st))
		for i := len(st) - 1; i >= 0; i-- {
			out = append(out, toGL(st[i]))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	case g.serveNotes(w, r, project, parts, body):
	default:
		glError(w, http.StatusNotFound, "404 Not Found")
	}
}

func verb(state string) string {
	switch state {
	case "running":
		return "run"
	case "success":
		return "succeed"
	case "failed":
		return "drop"
	case "canceled":
		return "cancel"
	}
	return "enqueue"
}
