package apply

// A commit costs what it changes: an object its render names by a key
// (sync/render's RenderKeyed) is prepared once. The next ApplyKeyed of the
// namespace given the same key for an object of the same kind's resource
// takes its reference and hash from then, and when that hash is the
// inventory's the object is neither copied, encoded nor hashed again.

import (
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// prepared is what preparing an object gave, besides the body sent.
type prepared struct {
	ref        ObjectRef
	hash       string
	gvr        schema.GroupVersionResource
	namespaced bool
}

// memo holds, per namespace, what its last keyed apply prepared, by key:
// at most the objects of each namespace's last commit.
type memo struct {
	mu     sync.Mutex
	spaces map[string]map[string]prepared
}

func (m *memo) of(namespace string) map[string]prepared {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.spaces[namespace] // not changed once stored
}

func (m *memo) store(namespace string, next map[string]prepared) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.spaces == nil {
		m.spaces = map[string]map[string]prepared{}
	}
	if len(next) == 0 {
		delete(m.spaces, namespace)
		return
	}
	m.spaces[namespace] = next
}

// keyed is one apply's use of the memo: the keys of its objects, what the
// namespace's last apply prepared, and the hashes of the inventory.
type keyed struct {
	m    *memo
	ns   string
	keys []string
	last map[string]string // by ObjectRef.id
	prev map[string]prepared
	next map[string]prepared
}

// keyedBy is nil (nothing reused) unless keys name each object.
func (a *Applier) keyedBy(namespace string, objs []*unstructured.Unstructured, keys []string, last map[string]string) *keyed {
	if len(keys) != len(objs) {
		return nil
	}
	return &keyed{m: a.memo, ns: namespace, keys: keys, last: last, prev: a.memo.of(namespace), next: make(map[string]prepared, len(keys))}
}

// reuse is object i as prepared before, when its key, its kind's resource
// and its hash in the inventory say nothing about it changed: only its
// reference and hash are known, since it is not sent.
func (k *keyed) reuse(i int, o *unstructured.Unstructured, lookup lookup) (*desired, bool) {
	if k == nil || k.keys[i] == "" {
		return nil, false
	}
	p, ok := k.prev[k.keys[i]]
	if !ok || k.last[p.ref.id()] != p.hash {
		return nil, false
	}
	m, err := lookup(o.GroupVersionKind())
	if err != nil || m.Resource != p.gvr || isNamespaced(m) != p.namespaced {
		return nil, false
	}
	k.next[k.keys[i]] = p
	return &desired{ref: p.ref, hash: p.hash, gvr: p.gvr, namespaced: p.namespaced}, true
}

// note keeps what preparing object i gave.
func (k *keyed) note(i int, d *desired) {
	if k != nil && k.keys[i] != "" {
		k.next[k.keys[i]] = prepared{ref: d.ref, hash: d.hash, gvr: d.gvr, namespaced: d.namespaced}
	}
}

func (k *keyed) store() {
	if k != nil {
		k.m.store(k.ns, k.next)
	}
}
