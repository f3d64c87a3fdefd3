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
	// the previous entries, updated with what was written, and with no
	// hash what a write whose answer was lost may have stored.
	Inventory []Entry
	// Applied were sent (created or changed, or re-applied by Drift).
	Applied []ObjectRef
	// Unchanged were not sent: their hash matched the previous inventory
	// (Apply) or their live state held every desired field (Drift).
	Unchanged []ObjectRef
	Pruned    []ObjectRef
	// Adopted were among Applied and existed before syncgate first wrote
	// them, without being the namespace's: syncgate took them over and
	// marked them (AdoptedAnnotation), and will never delete them.
	Adopted []ObjectRef
	// Ready were among Applied and judged ready as the server answered
	// their apply (Options.ReadyAsApplied): no rollout to wait for.
	Ready []ObjectRef
	// Kept are objects the commit no longer has that were left in place,
	// and why: adopted ones, ones not marked as the namespace's, and
	// inventory entries naming what the namespace may not own. They leave
	// the inventory.
	Kept []KeptObject
}

// KeptObject is an object prune left in place, and why.
type KeptObject struct {
	Object ObjectRef
	Reason string
}

func (k KeptObject) String() string { return k.Object.String() + " (" + k.Reason + ")" }

// Summary reads like "2 changed, 5 unchanged, 1 pruned, 1 adopted; not
// pruned: PersistentVolumeClaim team/data (adopted: ...)", naming at most
// five objects kept.
func (r *Result) Summary() string {
	s := fmt.Sprintf("%d changed, %d unchanged, %d pruned", len(r.Applied), len(r.Unchanged), len(r.Pruned))
	if len(r.Adopted) > 0 {
		s += fmt.Sprintf(", %d adopted", len(r.Adopted))
	}
	if len(r.Kept) == 0 {
		return s
	}
	names := make([]string, 0, 6)
	for i, k := range r.Kept {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(r.Kept)-5))
			break
		}
		names = append(names, k.String())
	}
	return s + "; not pruned: " + strings.Join(names, ", ")
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

func sortKept(kept []KeptObject) {
	sort.Slice(kept, func(i, j int) bool { return kept[i].Object.id() < kept[j].Object.id() })
}

func sortRefs(refs []ObjectRef) {
	sort.Slice(refs, func(i, j int) bool { return refs[i].id() < refs[j].id() })
}

// ids are the ids of entries, to tell the ones a commit still holds.
func ids(entries []Entry) map[string]bool {
	out := make(map[string]bool, len(entries))
	for _, e := range entries {
		out[e.id()] = true
	}
	return out
}

// hashes are the hashes of entries by id: an object whose hash is its
// entry's is unchanged since it was applied.
func hashes(entries []Entry) map[string]string {
	out := make(map[string]string, len(entries))
	for _, e := range entries {
		out[e.id()] = e.Hash
	}
	return out
}
