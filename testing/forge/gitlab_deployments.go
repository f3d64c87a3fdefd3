package forge

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environment is one GitLab environment as the fake stores it.
type Environment struct {
	ID          int64
	Project     string
	Name        string
	ExternalURL string
}

// Environments lists the environments of project, oldest first.
func (g *GitLab) Environments(project string) []Environment {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Environment
	for _, e := range g.environments {
		if e.Project == project {
			out = append(out, *e)
		}
	}
	return out
}

// envName is what GitLab accepts as an environment name.
var envName = regexp.MustCompile(`^[a-zA-Z0-9 \-_/${}.]+$`)

// serveDeployments answers GitLab's environment and deployment endpoints:
//
//	GET  /projects/:id/environments?name=&search=
//	POST /projects/:id/environments
//	PUT  /projects/:id/environments/:environment_id
//	GET  /projects/:id/deployments?environment=&status=&order_by=&sort=
//	GET  /projects/:id/deployments/:deployment_id
//	POST /projects/:id/deployments
//	PUT  /projects/:id/deployments/:deployment_id
//
// It reports whether the path was one of them.
func (g *GitLab) serveDeployments(w http.ResponseWriter, r *http.Request, project string, parts []string, body []byte) bool {
	if len(parts) < 2 || (parts[1] != "environments" && parts[1] != "deployments") {
		return false
	}
	in, err := glParams(r, body)
	if err != nil {
		glError(w, http.StatusBadRequest, "400 Bad request - invalid JSON")
		return true
	}
	var id int64
	if len(parts) == 3 {
		var err error
		if id, err = strconv.ParseInt(parts[2], 10, 64); err != nil {
			glError(w, http.StatusNotFound, "404 Not found")
			return true
		}
	}
	switch {
	case parts[1] == "environments" && len(parts) == 2 && r.Method == http.MethodGet:
		g.listEnvironments(w, r, project)
	case parts[1] == "environments" && len(parts) == 2 && r.Method == http.MethodPost:
		g.createEnvironment(w, project, in)
	case parts[1] == "environments" && len(parts) == 3 && r.Method == http.MethodPut:
		g.editEnvironment(w, project, id, in)
	case parts[1] == "deployments" && len(parts) == 2 && r.Method == http.MethodGet:
		g.listDeployments(w, r, project)
	case parts[1] == "deployments" && len(parts) == 3 && r.Method == http.MethodGet:
		g.getDeployment(w, project, id)
	case parts[1] == "deployments" && len(parts) == 2 && r.Method == http.MethodPost:
		g.createDeployment(w, project, in, string(body))
	case parts[1] == "deployments" && len(parts) == 3 && r.Method == http.MethodPut:
		if ft, ok := g.stateFault(); ok {
			writeFault(w, ft)
			return true
		}
		g.updateDeployment(w, project, id, in)
	default:
		glError(w, http.StatusNotFound, "404 Not Found")
	}
	return true
}

func str(in map[string]any, k string) string {
	switch v := in[k].(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func envJSON(e *Environment) map[string]any {
	slug := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(e.Name), "-"), "-")
	return map[string]any{"id": e.ID, "name": e.Name, "slug": slug, "external_url": optional(e.ExternalURL), "state": "available", "tier": "other"}
}

func (g *GitLab) listEnvironments(w http.ResponseWriter, r *http.Request, project string) {
	name, search := r.URL.Query().Get("name"), r.URL.Query().Get("search")
	out := []map[string]any{}
	for _, e := range g.Environments(project) {
		if (name == "" || e.Name == name) && (search == "" || strings.Contains(e.Name, search)) {
			out = append(out, envJSON(&e))
		}
	}
	glJSON(w, http.StatusOK, out)
}

func (g *GitLab) createEnvironment(w http.ResponseWriter, project string, in map[string]any) {
	name := str(in, "name")
	if name == "" {
		glError(w, http.StatusBadRequest, "name is missing")
		return
	}
	if !envName.MatchString(name) {
		glJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"name": []string{"can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', and spaces, but it cannot start or end with '/'"}}})
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, e := range g.environments {
		if e.Project == project && e.Name == name {
			glJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"name": []string{"has already been taken"}}})
			return
		}
	}
	g.nextID++
	e := &Environment{ID: g.nextID, Project: project, Name: name, ExternalURL: str(in, "external_url")}
	g.environments = append(g.environments, e)
	glJSON(w, http.StatusCreated, envJSON(e))
}

func (g *GitLab) editEnvironment(w http.ResponseWriter, project string, id int64, in map[string]any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, e := range g.environments {
		if e.Project == project && e.ID == id {
			if _, ok := in["external_url"]; ok {
				e.ExternalURL = str(in, "external_url")
			}
			glJSON(w, http.StatusOK, envJSON(e))
			return
		}
	}
	glError(w, http.StatusNotFound, "404 Environment Not Found")
}

func (g *GitLab) deploymentJSON(d *Deployment) map[string]any {
	at, updated := d.CreatedAt.Format(time.RFC3339), d.Latest().At.Format(time.RFC3339)
	var env map[string]any
	for _, e := range g.environments {
		if e.Project == d.Repo && e.Name == d.Environment {
			env = envJSON(e)
		}
	}
	return map[string]any{"id": d.ID, "iid": d.ID, "ref": d.Ref, "sha": d.SHA, "status": d.Latest().State,
		"created_at": at, "updated_at": updated, "user": map[string]any{"username": "syncgate-bot"}, "environment": env, "deployable": nil}
}

func (g *GitLab) listDeployments(w http.ResponseWriter, r *http.Request, project string) {
	q := r.URL.Query()
	g.mu.Lock()
	var list []*Deployment
	for _, d := range g.deployments {
		if d.Repo == project && matches(q.Get("environment"), d.Environment) && matches(q.Get("status"), d.Latest().State) {
			list = append(list, d)
		}
	}
	if q.Get("order_by") != "" && q.Get("order_by") != "id" && q.Get("order_by") != "iid" {
		g.mu.Unlock()
		glError(w, http.StatusBadRequest, "order_by does not have a valid value")
		return
	}
	if q.Get("sort") == "desc" {
		slices.Reverse(list)
	}
	page, _ := paginate(r, len(list))
	out := make([]map[string]any, 0, len(page))
	for _, i := range page {
		out = append(out, g.deploymentJSON(list[i]))
	}
	g.mu.Unlock()
	per := len(page)
	if next := nextPage(r, len(list)); next > 0 {
		w.Header().Set("X-Next-Page", strconv.Itoa(next))
	}
	w.Header().Set("X-Total", strconv.Itoa(len(list)))
	w.Header().Set("X-Per-Page", strconv.Itoa(per))
	glJSON(w, http.StatusOK, out)
}

func (g *GitLab) getDeployment(w http.ResponseWriter, project string, id int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.deploymentOf(project, id)
	if d == nil {
		glError(w, http.StatusNotFound, "404 Not found")
		return
	}
	glJSON(w, http.StatusOK, g.deploymentJSON(d))
}

// nextPage is GitLab's X-Next-Page for a list of n, or 0 on the last page.
func nextPage(r *http.Request, n int) int {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 20
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	if page*per >= n {
		return 0
	}
	return page + 1
}

var gitlabDeploymentStates = []string{"created", "running", "success", "failed", "canceled"}

func (g *GitLab) createDeployment(w http.ResponseWriter, project string, in map[string]any, raw string) {
	for _, k := range []string{"environment", "sha", "ref", "tag", "status"} {
		if _, ok := in[k]; !ok {
			glError(w, http.StatusBadRequest, k+" is missing")
			return
		}
	}
	state := str(in, "status")
	if !slices.Contains(gitlabDeploymentStates, state) {
		glError(w, http.StatusBadRequest, "status does not have a valid value")
		return
	}
	env := str(in, "environment")
	g.mu.Lock()
	defer g.mu.Unlock()
	// GitLab makes the environment when a deployment names a new one.
	found := false
	for _, e := range g.environments {
		found = found || (e.Project == project && e.Name == env)
	}
	if !found {
		g.nextID++
		g.environments = append(g.environments, &Environment{ID: g.nextID, Project: project, Name: env})
	}
	d := g.newDeployment(Deployment{Repo: project, SHA: str(in, "sha"), Ref: str(in, "ref"), Environment: env, Request: raw})
	g.nextID++
	d.Statuses = []DeploymentStatus{{ID: g.nextID, State: state, At: g.now()}}
	glJSON(w, http.StatusCreated, g.deploymentJSON(d))
}

// events are GitLab's deployment state machine: running only from
// created; success, failed and canceled from any other state.
var events = map[string]string{"running": "run", "success": "succeed", "failed": "drop", "canceled": "cancel"}

func (g *GitLab) updateDeployment(w http.ResponseWriter, project string, id int64, in map[string]any) {
	state := str(in, "status")
	event, ok := events[state]
	if !ok {
		glError(w, http.StatusBadRequest, "status does not have a valid value")
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.deploymentOf(project, id)
	if d == nil {
		glError(w, http.StatusNotFound, "404 Deployment Not Found")
		return
	}
	from := d.Latest().State
	if from == state || (state == "running" && from != "created") {
		glError(w, http.StatusBadRequest, fmt.Sprintf("Cannot transition status via :%s from :%s", event, from))
		return
	}
	g.nextID++
	d.Statuses = append(d.Statuses, DeploymentStatus{ID: g.nextID, State: state, At: g.now()})
	glJSON(w, http.StatusOK, g.deploymentJSON(d))
}
