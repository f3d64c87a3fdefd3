package forge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Deployment is one GitHub deployment with its statuses, or one GitLab
// deployment with the states it went through, as the fakes store them.
type Deployment struct {
	ID          int64
	Repo        string
	SHA         string
	Ref         string
	Task        string
	Environment string
	Description string
	// Transient and Production are GitHub's transient_environment and
	// production_environment.
	Transient, Production bool
	// Payload is GitHub's payload as the creating request gave it (JSON),
	// answered back as it was given; empty when none was.
	Payload string
	// Request is the creating request's JSON body as sent.
	Request   string
	Statuses  []DeploymentStatus
	CreatedAt time.Time
}

// DeploymentStatus is one status of a deployment, oldest first.
type DeploymentStatus struct {
	ID             int64
	State          string
	Description    string
	LogURL         string
	EnvironmentURL string
	// AutoInactive is GitHub's auto_inactive as the request set it (true
	// when left out, as GitHub takes it).
	AutoInactive bool
	// At is when the status was made (GitHub's created_at; GitLab's
	// updated_at of a deployment is its newest status's).
	At time.Time
}

// States lists the states a deployment went through, oldest first.
func (d Deployment) States() []string {
	out := make([]string, 0, len(d.Statuses))
	for _, s := range d.Statuses {
		out = append(out, s.State)
	}
	return out
}

// Latest is the deployment's newest status, or a zero one.
func (d Deployment) Latest() DeploymentStatus {
	if len(d.Statuses) == 0 {
		return DeploymentStatus{}
	}
	return d.Statuses[len(d.Statuses)-1]
}

// Deployments lists the deployments of repo (GitHub owner/name, GitLab
// project path) for sha and environment (either empty for any), oldest first.
func (f *fake) Deployments(repo, sha, environment string) []Deployment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Deployment
	for _, d := range f.deployments {
		if d.Repo == repo && (sha == "" || d.SHA == sha) && (environment == "" || d.Environment == environment) {
			cp := *d
			cp.Statuses = slices.Clone(d.Statuses)
			out = append(out, cp)
		}
	}
	return out
}

func (f *fake) newDeployment(d Deployment) *Deployment {
	f.nextID++
	d.ID, d.CreatedAt = f.nextID, f.now()
	f.deployments = append(f.deployments, &d)
	return &d
}

func (f *fake) deploymentOf(repo string, id int64) *Deployment {
	for _, d := range f.deployments {
		if d.Repo == repo && d.ID == id {
			return d
		}
	}
	return nil
}

// FailDeploymentStates makes the next n requests that change a
// deployment's state (GitHub statuses, GitLab updates) get the fault, while
// lookups and creations still pass: a deployment made, its state not yet.
func (f *fake) FailDeploymentStates(n int, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stateFaults = nil
	for range n {
		f.stateFaults = append(f.stateFaults, fault)
	}
}

// stateFault returns a pending deployment state fault, if any.
func (f *fake) stateFault() (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.stateFaults) == 0 {
		return Fault{}, false
	}
	ft := f.stateFaults[0]
	f.stateFaults = f.stateFaults[1:]
	return ft, true
}

// serveDeployments answers GitHub's deployment endpoints:
//
//	GET  /repos/{owner}/{repo}/deployments?sha=&ref=&task=&environment=
//	POST /repos/{owner}/{repo}/deployments
//	GET  /repos/{owner}/{repo}/deployments/{id}
//	GET  /repos/{owner}/{repo}/deployments/{id}/statuses
//	POST /repos/{owner}/{repo}/deployments/{id}/statuses
//
// It reports whether the path was one of them.
func (g *GitHub) serveDeployments(w http.ResponseWriter, r *http.Request, repo string, parts []string, body []byte) bool {
	if len(parts) < 4 || parts[3] != "deployments" {
		return false
	}
	switch {
	case len(parts) == 4 && r.Method == http.MethodGet:
		g.listDeployments(w, r, repo)
	case len(parts) == 4 && r.Method == http.MethodPost:
		g.createDeployment(w, repo, body)
	case len(parts) >= 5:
		id, err := strconv.ParseInt(parts[4], 10, 64)
		g.mu.Lock()
		d := g.deploymentOf(repo, id)
		g.mu.Unlock()
		if err != nil || d == nil {
			ghError(w, http.StatusNotFound, "Not Found")
			return true
		}
		switch {
		case len(parts) == 5 && r.Method == http.MethodGet:
			ghJSON(w, http.StatusOK, g.deploymentJSON(repo, d.ID))
		case len(parts) == 6 && parts[5] == "statuses" && r.Method == http.MethodGet:
			g.listDeploymentStatuses(w, r, repo, d.ID)
		case len(parts) == 6 && parts[5] == "statuses" && r.Method == http.MethodPost:
			if ft, ok := g.stateFault(); ok {
				writeFault(w, ft)
				return true
			}
			g.createDeploymentStatus(w, repo, d.ID, body)
		default:
			ghError(w, http.StatusNotFound, "Not Found")
		}
	default:
		ghError(w, http.StatusNotFound, "Not Found")
	}
	return true
}

func (g *GitHub) createDeployment(w http.ResponseWriter, repo string, body []byte) {
	var in struct {
		Ref                   string    `json:"ref"`
		Task                  *string   `json:"task"`
		AutoMerge             *bool     `json:"auto_merge"`
		RequiredContexts      *[]string `json:"required_contexts"`
		Environment           *string   `json:"environment"`
		Description           *string   `json:"description"`
		TransientEnvironment  bool      `json:"transient_environment"`
		ProductionEnvironment *bool     `json:"production_environment"`
		// Payload is an object or a string ("" by default).
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		ghError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if in.Ref == "" {
		ghError(w, http.StatusUnprocessableEntity, "Invalid request.\n\n\"ref\" wasn't supplied.")
		return
	}
	var payload any
	_ = json.Unmarshal(in.Payload, &payload) // parsed with the body
	switch payload.(type) {
	case nil, string, map[string]any:
	default:
		ghError(w, http.StatusUnprocessableEntity, "Invalid request.\n\nFor 'properties/payload', "+string(in.Payload)+" is not an object or string.")
		return
	}
	d := Deployment{Repo: repo, Ref: in.Ref, SHA: in.Ref, Task: "deploy", Environment: "production", Transient: in.TransientEnvironment, Request: string(body)}
	if payload != nil && payload != "" {
		d.Payload = string(in.Payload)
	}
	if in.Task != nil {
		d.Task = *in.Task
	}
	if in.Environment != nil {
		d.Environment = *in.Environment
	}
	if in.Description != nil {
		d.Description = *in.Description
	}
	d.Production = d.Environment == "production"
	if in.ProductionEnvironment != nil {
		d.Production = *in.ProductionEnvironment
	}
	// Without required_contexts GitHub checks every context of the ref and
	// refuses while any is not success (409); [] skips the check.
	if in.RequiredContexts == nil {
		for _, s := range g.latestPerContext(repo, in.Ref) {
			if s.State != "success" {
				ghError(w, http.StatusConflict, "Conflict: Commit status checks failed for "+in.Ref+".")
				return
			}
		}
	}
	if in.AutoMerge == nil || *in.AutoMerge {
		// GitHub merges the default branch into ref first; a sha cannot
		// take a merge.
		if isSHA(in.Ref) {
			ghError(w, http.StatusConflict, "Conflict merging main into "+in.Ref+".")
			return
		}
	}
	g.mu.Lock()
	nd := g.newDeployment(d)
	g.mu.Unlock()
	ghJSON(w, http.StatusCreated, g.deploymentJSON(repo, nd.ID))
}

func isSHA(ref string) bool {
	if len(ref) != 40 && len(ref) != 64 {
		return false
	}
	return strings.Trim(strings.ToLower(ref), "0123456789abcdef") == ""
}

func (g *GitHub) latestPerContext(repo, sha string) map[string]Status {
	latest := map[string]Status{}
	for _, s := range g.Statuses(repo, sha) {
		latest[s.Context] = s
	}
	return latest
}

func (g *GitHub) listDeployments(w http.ResponseWriter, r *http.Request, repo string) {
	q := r.URL.Query()
	g.mu.Lock()
	var ids []int64
	for i := len(g.deployments) - 1; i >= 0; i-- { // newest first
		d := g.deployments[i]
		if d.Repo != repo || !matches(q.Get("sha"), d.SHA) || !matches(q.Get("ref"), d.Ref) ||
			!matches(q.Get("task"), d.Task) || !matches(q.Get("environment"), d.Environment) {
			continue
		}
		ids = append(ids, d.ID)
	}
	g.mu.Unlock()
	page, links := paginate(r, len(ids))
	out := make([]map[string]any, 0, len(page))
	for _, i := range page {
		out = append(out, g.deploymentJSON(repo, ids[i]))
	}
	if links != "" {
		w.Header().Set("Link", links)
	}
	ghJSON(w, http.StatusOK, out)
}

func matches(want, got string) bool { return want == "" || want == got }

// paginate picks the indexes of one page of n items from per_page (default
// 30, at most 100) and page, and the Link header pointing at the next and
// last pages.
func paginate(r *http.Request, n int) ([]int, string) {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, 100)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	var idx []int
	for i := (page - 1) * per; i < min(page*per, n); i++ {
		idx = append(idx, i)
	}
	last := max((n+per-1)/per, 1)
	if page >= last {
		return idx, ""
	}
	link := func(p int, rel string) string {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		u.RawQuery = q.Encode()
		return fmt.Sprintf("<http://%s%s>; rel=%q", r.Host, u.String(), rel)
	}
	return idx, link(page+1, "next") + ", " + link(last, "last")
}

func (g *GitHub) deploymentJSON(repo string, id int64) map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.deploymentOf(repo, id)
	base := g.srv.URL + "/api/v3/repos/" + repo
	at := d.CreatedAt.Format(time.RFC3339)
	var payload any = map[string]any{}
	if d.Payload != "" {
		payload = json.RawMessage(d.Payload)
	}
	return map[string]any{
		"url": fmt.Sprintf("%s/deployments/%d", base, d.ID), "id": d.ID, "node_id": fmt.Sprintf("DE_%d", d.ID),
		"sha": d.SHA, "ref": d.Ref, "task": d.Task, "payload": payload, "original_environment": d.Environment,
		"environment": d.Environment, "description": optional(d.Description), "creator": map[string]any{"login": "syncgate-bot"},
		"created_at": at, "updated_at": at, "statuses_url": fmt.Sprintf("%s/deployments/%d/statuses", base, d.ID),
		"repository_url": base, "transient_environment": d.Transient, "production_environment": d.Production,
	}
}

var deploymentStates = []string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}

func (g *GitHub) createDeploymentStatus(w http.ResponseWriter, repo string, id int64, body []byte) {
	var in struct {
		State          string  `json:"state"`
		TargetURL      string  `json:"target_url"`
		LogURL         string  `json:"log_url"`
		Description    string  `json:"description"`
		Environment    *string `json:"environment"`
		EnvironmentURL string  `json:"environment_url"`
		AutoInactive   *bool   `json:"auto_inactive"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		ghError(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	if !slices.Contains(deploymentStates, in.State) {
		ghError(w, http.StatusUnprocessableEntity, "Validation Failed: state is not included in the list")
		return
	}
	if utf8.RuneCountInString(in.Description) > 140 {
		ghError(w, http.StatusUnprocessableEntity, "Validation Failed: description is too long (maximum is 140 characters)")
		return
	}
	s := DeploymentStatus{State: in.State, Description: in.Description, LogURL: in.LogURL, EnvironmentURL: in.EnvironmentURL, AutoInactive: true}
	if s.LogURL == "" {
		s.LogURL = in.TargetURL
	}
	if in.AutoInactive != nil {
		s.AutoInactive = *in.AutoInactive
	}
	g.mu.Lock()
	d := g.deploymentOf(repo, id)
	if in.Environment != nil && *in.Environment != "" {
		d.Environment = *in.Environment
	}
	g.nextID++
	s.ID, s.At = g.nextID, g.now()
	d.Statuses = append(d.Statuses, s)
	if s.State == "success" && s.AutoInactive {
		g.deactivatePrior(d)
	}
	g.mu.Unlock()
	ghJSON(w, http.StatusCreated, g.deploymentStatusJSON(repo, d, s))
}

// deactivatePrior adds an inactive status to every earlier non-transient,
// non-production deployment of d's environment whose latest state is
// success, as GitHub's auto_inactive does. g.mu is held.
func (g *GitHub) deactivatePrior(d *Deployment) {
	for _, p := range g.deployments {
		if p.Repo != d.Repo || p.Environment != d.Environment || p.ID >= d.ID || p.Transient || p.Production {
			continue
		}
		if p.Latest().State != "success" {
			continue
		}
		g.nextID++
		p.Statuses = append(p.Statuses, DeploymentStatus{ID: g.nextID, State: "inactive", AutoInactive: true, At: g.now()})
	}
}

func (g *GitHub) listDeploymentStatuses(w http.ResponseWriter, r *http.Request, repo string, id int64) {
	g.mu.Lock()
	d := *g.deploymentOf(repo, id)
	d.Statuses = slices.Clone(d.Statuses)
	g.mu.Unlock()
	slices.Reverse(d.Statuses) // newest first
	page, links := paginate(r, len(d.Statuses))
	out := make([]map[string]any, 0, len(page))
	for _, i := range page {
		out = append(out, g.deploymentStatusJSON(repo, &d, d.Statuses[i]))
	}
	if links != "" {
		w.Header().Set("Link", links)
	}
	ghJSON(w, http.StatusOK, out)
}

func (g *GitHub) deploymentStatusJSON(repo string, d *Deployment, s DeploymentStatus) map[string]any {
	base := g.srv.URL + "/api/v3/repos/" + repo
	at := s.At.Format(time.RFC3339)
	return map[string]any{
		"url": fmt.Sprintf("%s/deployments/%d/statuses/%d", base, d.ID, s.ID), "id": s.ID, "node_id": fmt.Sprintf("DES_%d", s.ID),
		"state": s.State, "creator": map[string]any{"login": "syncgate-bot"}, "description": s.Description,
		"environment": d.Environment, "target_url": s.LogURL, "log_url": s.LogURL, "environment_url": s.EnvironmentURL,
		"created_at": at, "updated_at": at, "deployment_url": fmt.Sprintf("%s/deployments/%d", base, d.ID), "repository_url": base,
	}
}
