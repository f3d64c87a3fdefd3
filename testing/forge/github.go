package forge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// GitHub fakes api.github.com (and GitHub Enterprise under /api/v3/).
type GitHub struct {
	*fake
	// RateLimit is the primary limit advertised; Remaining counts down per call.
	RateLimit, Remaining int
}

// NewGitHub serves owner/repo names in repos to the given token.
func NewGitHub(token string, repos ...string) *GitHub {
	g := &GitHub{fake: newFake(token, repos), RateLimit: 5000, Remaining: 5000}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	return g
}

// APIURL is the API root to configure clients with (GHE style).
func (g *GitHub) APIURL() string { return g.srv.URL + "/api/v3/" }

func ghError(w http.ResponseWriter, code int, msg string) {
	ghJSON(w, code, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest/commits/statuses"})
}

// ghJSON writes v as GitHub answers: JSON, charset named.
func ghJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type ghStatus struct {
	ID          int64   `json:"id"`
	NodeID      string  `json:"node_id"`
	URL         string  `json:"url"`
	State       string  `json:"state"`
	Description *string `json:"description"`
	TargetURL   *string `json:"target_url"`
	Context     string  `json:"context"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	Creator     struct {
		Login string `json:"login"`
	} `json:"creator"`
}

func (g *GitHub) toJSON(repo string, s Status) ghStatus {
	out := ghStatus{ID: s.ID, NodeID: fmt.Sprintf("SC_%d", s.ID), URL: g.srv.URL + "/api/v3/repos/" + repo + "/statuses/" + s.SHA,
		State: s.State, Description: optional(s.Description), TargetURL: optional(s.TargetURL), Context: s.Context,
		CreatedAt: s.CreatedAt.Format(time.RFC3339), UpdatedAt: s.CreatedAt.Format(time.RFC3339)}
	out.Creator.Login = "syncgate-bot"
	return out
}

func (g *GitHub) serve(w http.ResponseWriter, r *http.Request) {
	body, handled := g.intercept(w, r)
	if handled {
		return
	}
	g.mu.Lock()
	if g.Remaining > 0 {
		g.Remaining--
	}
	remaining := g.Remaining
	g.mu.Unlock()
	reset := time.Now().Add(time.Hour).Unix()
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(g.RateLimit))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	w.Header().Set("X-RateLimit-Used", strconv.Itoa(g.RateLimit-remaining))
	w.Header().Set("X-RateLimit-Resource", "core")
	if remaining == 0 {
		ghError(w, http.StatusForbidden, "API rate limit exceeded for user ID 1.")
		return
	}
	auth := r.Header.Get("Authorization")
	tok := strings.TrimPrefix(strings.TrimPrefix(auth, "Bearer "), "token ")
	if auth == "" || tok != g.token {
		ghError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	// repos/{owner}/{repo}/statuses/{sha} or repos/{owner}/{repo}/commits/{ref}/status(es)
	if len(parts) < 4 || parts[0] != "repos" {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	repo := parts[1] + "/" + parts[2]
	if !g.repos[repo] {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	if parts[3] == "deployments" && !g.deploymentsAllowed() {
		w.Header().Set("X-Accepted-GitHub-Permissions", "deployments=write")
		ghError(w, http.StatusForbidden, "Resource not accessible by personal access token")
		return
	}
	if g.serveDeployments(w, r, repo, parts, body) {
		return
	}
	switch {
	case r.Method == http.MethodPost && len(parts) == 5 && parts[3] == "statuses":
		var in struct {
			State, TargetURL, Description, Context string
		}
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			ghError(w, http.StatusBadRequest, "Problems parsing JSON")
			return
		}
		in.State, _ = raw["state"].(string)
		in.TargetURL, _ = raw["target_url"].(string)
		in.Description, _ = raw["description"].(string)
		in.Context, _ = raw["context"].(string)
		if in.Context == "" {
			in.Context = "default"
		}
		switch in.State {
		case "pending", "success", "failure", "error":
		default:
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed")
			return
		}
		if utf8.RuneCountInString(in.Description) > 140 {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed: description is too long (maximum is 140 characters)")
			return
		}
		s := g.store(repo, Status{SHA: parts[4], State: in.State, Context: in.Context, Description: in.Description, TargetURL: in.TargetURL})
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(g.toJSON(repo, s))
	case r.Method == http.MethodGet && len(parts) == 6 && parts[3] == "commits" && parts[5] == "statuses":
		st := g.Statuses(repo, parts[4])
		out := make([]ghStatus, 0, len(st))
		for i := len(st) - 1; i >= 0; i-- { // newest first
			out = append(out, g.toJSON(repo, st[i]))
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodGet && len(parts) == 6 && parts[3] == "commits" && parts[5] == "status":
		st := g.Statuses(repo, parts[4])
		latest := map[string]Status{}
		for _, s := range st {
			latest[s.Context] = s
		}
		state := "pending"
		if len(latest) > 0 {
			state = "success"
		}
		var list []ghStatus
		for _, s := range latest {
			list = append(list, g.toJSON(repo, s))
			switch s.State {
			case "failure", "error":
				state = "failure"
			case "pending":
				if state != "failure" {
					state = "pending"
				}
			}
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(map[string]any{"state": state, "sha": parts[4], "total_count": len(list), "statuses": list})
	case g.serveComments(w, r, repo, parts, body):
	default:
		ghError(w, http.StatusNotFound, "Not Found")
	}
}
