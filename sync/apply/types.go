package apply

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ObjectRef names one object.
type ObjectRef struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// GroupVersionKind of the object.
func (r ObjectRef) GroupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// String reads like "Deployment team/web".
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// id ignores the version, which may change without the object changing.
func (r ObjectRef) id() string {
	return r.Group + "/" + r.Kind + "/" + r.Namespace + "/" + r.Name
}

// Entry is one applied object and the hash of the desired state last sent.
type Entry struct {
	ObjectRef
	Hash string `json:"hash,omitempty"`
}

// Result says what an Apply or Drift did.
type Result struct {
	// Inventory is every object of the commit with its desired-state hash.
	// When Apply fails after it began writing, it is what is live instead:
	// the previous entries, updated with what was written.
	Inventory []Entry
	// Applied were sent (created or changed, or re-applied by Drift).
	Applied []ObjectRef
	// Unchanged were not sent: their hash matched the previous inventory
	// (Apply) or their live state held every desired field (Drift).
	Unchanged []ObjectRef
	Pruned    []ObjectRef
}

// ObjectError is the API server's refusal of one object.
type ObjectError struct {
	Object ObjectRef
	Err    error
}

func (e *ObjectError) Error() string { return fmt.Sprintf("%s: %v", e.Object, e.Err) }
func (e *ObjectError) Unwrap() error { return e.Err }

// ValidationError lists every object the dry run (or the mapping of kinds to
// API resources) refused; nothing of the commit was written.
type ValidationError struct {
	Objects []*ObjectError
}

func (e *ValidationError) Error() string {
	msgs := make([]string, 0, len(e.Objects))
	for _, o := range e.Objects {
		msgs = append(msgs, o.Error())
	}
	return fmt.Sprintf("dry run refused %d object(s), nothing applied: %s", len(e.Objects), strings.Join(msgs, "; "))
}

// Unwrap exposes the first refusal, so API status checks work on the whole.
func (e *ValidationError) Unwrap() error {
	if len(e.Objects) == 0 {
		return nil
	}
	return e.Objects[0].Err
}

func sortRefs(refs []ObjectRef) {
	sort.Slice(refs, func(i, j int) bool { return refs[i].id() < refs[j].id() })
}
