package forge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Call is one request the fake received.
type Call struct {
	Method, Path string
	Body         string
	At           time.Time
}

// Fault is a canned answer given instead of the real one.
type Fault struct {
	Status  int
	Headers map[string]string
	Body    string
}

// Status is one stored commit status, in either forge's terms.
type Status struct {
	ID          int64
	SHA         string
	State       string
	Context     string // GitHub context / GitLab name
	Description string
	TargetURL   string
	CreatedAt   time.Time
}

// fake is what both forges share.
type fake struct {
	srv *httptest.Server

	mu       sync.Mutex
	token    string
	repos    map[string]bool
	statuses map[string][]Status // repo@sha → newest last
	calls    []Call
	faults   []Fault
	nextID   int64

	deployments []*Deployment // oldest first
	stateFaults []Fault       // answers to the next deployment state changes
	// environments are GitLab's, oldest first.
	environments []*Environment
	prs          *pulls // pull requests and their comments (github_comments.go)
	// deploymentsDenied: the token may set commit statuses but not make
	// deployments (DenyDeployments).
	deploymentsDenied bool
	// clock is the forge's time (SetClock); time.Now when nil.
	clock func() time.Time
}

func newFake(token string, repos []string) *fake {
	f := &fake{token: token, repos: map[string]bool{}, statuses: map[string][]Status{}}
	for _, r := range repos {
		f.repos[r] = true
	}
	return f
}

// SetClock makes now the forge's time: the times of the deployments and
// deployment statuses made from then on.
func (f *fake) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = now
}

// Now is the forge's time, to the second (SetClock).
func (f *fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now()
}

// now is the forge's time, to the second. f.mu is held.
func (f *fake) now() time.Time {
	if f.clock != nil {
		return f.clock().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

// URL is the fake's base URL.
func (f *fake) URL() string { return f.srv.URL }

// Close stops the server.
func (f *fake) Close() { f.srv.Close() }

// FailNext makes the next n requests get the fault.
func (f *fake) FailNext(n int, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < n; i++ {
		f.faults = append(f.faults, fault)
	}
}

// DenyDeployments makes the token one that may set commit statuses but
// not make deployments, and the deployment endpoints answer as the forge
// does then: GitHub refuses every deployment request with 403 "Resource
// not accessible by personal access token" (a fine-grained token without
// the Deployments permission); GitLab lets it read deployments and
// environments and refuses their creation and change with 403 Forbidden
// (a role or protected environment that may not deploy).
func (f *fake) DenyDeployments() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deploymentsDenied = true
}

func (f *fake) deploymentsAllowed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.deploymentsDenied
}

// Calls returns the requests received so far.
func (f *fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Statuses returns the statuses stored for repo and sha, oldest first.
func (f *fake) Statuses(repo, sha string) []Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Status(nil), f.statuses[repo+"@"+sha]...)
}

// Latest is the newest status of one context on repo@sha.
func (f *fake) Latest(repo, sha, context string) (Status, bool) {
	st := f.Statuses(repo, sha)
	for i := len(st) - 1; i >= 0; i-- {
		if st[i].Context == context {
			return st[i], true
		}
	}
	return Status{}, false
}

// record logs the call and returns a pending fault, if any.
func (f *fake) record(r *http.Request, body string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, Call{Method: r.Method, Path: r.URL.Path, Body: body, At: time.Now()})
	if len(f.faults) == 0 {
		return Fault{}, false
	}
	ft := f.faults[0]
	f.faults = f.faults[1:]
	return ft, true
}

// intercept reads the request's body and records the call; it answers a
// pending fault itself (handled). Every answer carries the forge's Date,
// as both forges' do (by its clock, SetClock).
func (f *fake) intercept(w http.ResponseWriter, r *http.Request) (body []byte, handled bool) {
	w.Header().Set("Date", f.Now().Format(http.TimeFormat))
	body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if ft, ok := f.record(r, string(body)); ok {
		writeFault(w, ft)
		return body, true
	}
	return body, false
}

// optional is s, or JSON's null when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (f *fake) store(repo string, s Status) Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	s.ID, s.CreatedAt = f.nextID, time.Now().UTC().Truncate(time.Second)
	k := repo + "@" + s.SHA
	f.statuses[k] = append(f.statuses[k], s)
	return s
}

func writeFault(w http.ResponseWriter, ft Fault) {
	for k, v := range ft.Headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(ft.Status)
	_, _ = w.Write([]byte(ft.Body))
}
