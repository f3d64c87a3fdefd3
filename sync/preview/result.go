package preview

import (
	"strconv"
	"strings"
	"time"

	"github.com/syncgate/syncgate/sync/apply"
)

// Request asks for one preview.
type Request struct {
	// Ref is what to fetch: refs/pull/12/head, refs/merge-requests/7/head,
	// or empty to fetch SHA itself.
	Ref string `json:"ref,omitempty"`
	// SHA is the head the request is about, when known (webhooks say it).
	SHA string `json:"sha,omitempty"`
	// Provider is the forge whose pull request this is ("github",
	// "gitlab"), empty for a preview asked through the API.
	Provider string `json:"provider,omitempty"`
	// Number is the pull or merge request, 0 when none.
	Number int `json:"number,omitempty"`
	// URL is the pull request's page.
	URL string `json:"url,omitempty"`
	// Refused, when set, is why the request is not previewed (a fork):
	// its head gets a failure status saying so, and nothing is fetched.
	Refused string `json:"refused,omitempty"`
}

// Key is what a newer request of the same pull request replaces.
func (r Request) Key() string {
	if r.Number > 0 {
		return r.Provider + "#" + strconv.Itoa(r.Number)
	}
	if r.Ref != "" {
		return "ref:" + r.Ref
	}
	return "sha:" + r.SHA
}

// RequestOfRef is a request for ref, with the pull or merge request it
// names, if any (refs/pull/N/head on GitHub, refs/merge-requests/N/head on
// GitLab).
func RequestOfRef(ref string) Request {
	r := Request{Ref: ref}
	for prefix, provider := range map[string]string{"refs/pull/": "github", "refs/merge-requests/": "gitlab"} {
		rest, ok := strings.CutPrefix(ref, prefix)
		if !ok {
			continue
		}
		num, tail, _ := strings.Cut(rest, "/")
		if n, err := strconv.Atoi(num); err == nil && n > 0 && tail == "head" {
			r.Provider, r.Number = provider, n
		}
	}
	return r
}

// Verdicts of a preview, as a whole and per namespace.
const (
	Queued  = "queued"
	Running = "running"
	Valid   = "valid"
	Refused = "refused"
	// Error: the preview could not be made (the repo or the API could not
	// be reached); it says nothing about the commit.
	Error = "error"
)

// Result is one preview: what the commit would do to each namespace.
type Result struct {
	Cluster  string `json:"cluster"`
	SHA      string `json:"sha"`
	Ref      string `json:"ref,omitempty"`
	Provider string `json:"provider,omitempty"`
	Number   int    `json:"number,omitempty"`
	URL      string `json:"url,omitempty"`
	// State is the verdict over every namespace: valid when each is,
	// refused when one is, error when one could not be previewed.
	State string `json:"state"`
	// Reason says why a whole preview was refused or failed (a fork, a
	// fetch that failed); namespaces then are empty.
	Reason     string       `json:"reason,omitempty"`
	Namespaces []*Namespace `json:"namespaces,omitempty"`
	// Against are the commits each namespace ran when it was judged.
	Against  map[string]string `json:"against,omitempty"`
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished,omitzero"`
}

// Namespace is the preview of one namespace.
type Namespace struct {
	Namespace string `json:"namespace"`
	State     string `json:"state"`
	// Reason is the refusal or the trouble, bounded.
	Reason string `json:"reason,omitempty"`
	// Refusals name each object refused and why.
	Refusals []Refusal   `json:"refusals,omitempty"`
	Plan     *apply.Plan `json:"plan,omitempty"`
}

// Refusal is one object the render or the dry run refused.
type Refusal struct {
	Object  string `json:"object,omitempty"`
	File    string `json:"file,omitempty"`
	Message string `json:"message"`
}

// Final reports whether the result is a verdict, not work under way.
func (r *Result) Final() bool { return r.State != Queued && r.State != Running }

// Summary is the short text of a namespace's verdict: "valid: 2 changed,
// 1 created, 1 pruned", "valid: no change", or the refusal.
func (n *Namespace) Summary() string {
	switch n.State {
	case Valid:
		p := n.Plan
		if p == nil || p.Total() == 0 {
			return "valid: no change"
		}
		var parts []string
		for _, c := range []struct {
			n    int
			verb string
		}{{len(p.Changed), "changed"}, {len(p.Created), "created"}, {len(p.Pruned), "pruned"}} {
			if c.n > 0 {
				parts = append(parts, strconv.Itoa(c.n)+" "+c.verb)
			}
		}
		return "valid: " + strings.Join(parts, ", ")
	case Refused:
		return "refused: " + n.Reason
	case Error:
		return "not previewed: " + n.Reason
	}
	return n.State
}
