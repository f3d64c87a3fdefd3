package clusterwide

import (
	"strconv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// record passes the events of the rounds of informers a Watch is made of
// on to its handler as one stream, and remembers what it told. A round
// replacing another (cluster-wide granted or refused, per namespace
// instead) runs beside it until it has listed, so both may tell of an
// object: an event is passed on only when it is newer, by
// resourceVersion, than what was told of the object (a new round's list
// of an object already told is an update, or nothing), and a deletion
// only of what was told. Once the new round has listed and the old one
// stopped, an object told of that the new round's list did not hold is
// told deleted: gone in between, which the new informers never see.
// Handler calls are made under its lock, one at a time.
type record struct {
	h cache.ResourceEventHandler

	mu sync.Mutex
	// round counts the rounds started; told holds, by key, each object
	// told; gone the resourceVersion each object told deleted since the
	// last sweep was deleted at, so that a round behind another does not
	// bring it back.
	round int
	told  map[string]told
	gone  map[string]uint64
}

type told struct {
	obj any
	rv  uint64 // 0 when not a number
	// seen is the last round whose informers told of the object, passed
	// on or not.
	seen int
}

func newRecord(h cache.ResourceEventHandler) *record {
	return &record{h: h, told: map[string]told{}, gone: map[string]uint64{}}
}

// renew starts a round: a new set of informers, each listing afresh.
func (r *record) renew() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.round++
	return r.round
}

// from is the handler of round n's informers.
func (r *record) from(n int) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    func(obj any, initial bool) { r.upsert(n, obj, initial) },
		UpdateFunc: func(_, obj any) { r.upsert(n, obj, false) },
		DeleteFunc: func(obj any) { r.remove(n, obj) },
	}
}

// notAfter tells whether resourceVersion a is known to be no newer than b.
func notAfter(a, b uint64) bool { return a != 0 && b != 0 && a <= b }

func (r *record) upsert(round int, obj any, initial bool) {
	key, err := cache.MetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	rv := resourceVersion(obj)
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.told[key]
	if ok {
		t.seen = max(t.seen, round)
		r.told[key] = t
		if notAfter(rv, t.rv) {
			return // told already, or newer
		}
	} else if g, deleted := r.gone[key]; deleted && notAfter(rv, g) {
		return // a round behind another: the object is gone since
	}
	r.told[key] = told{obj: obj, rv: rv, seen: max(t.seen, round)}
	delete(r.gone, key)
	if ok {
		r.h.OnUpdate(t.obj, obj)
		return
	}
	r.h.OnAdd(obj, initial)
}

func (r *record) remove(round int, obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	_, unknown := obj.(cache.DeletedFinalStateUnknown)
	rv := resourceVersion(obj)
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.told[key]
	if !ok {
		r.gone[key] = max(r.gone[key], rv)
		return
	}
	// A deletion is newer than every state of what it deleted: one older
	// than what was told is of an object since created again, unless the
	// latest round's relist found it gone (its final state unknown).
	if rv != 0 && t.rv != 0 && rv < t.rv && !(unknown && round == r.round) {
		return
	}
	delete(r.told, key)
	r.gone[key] = max(rv, t.rv)
	r.h.OnDelete(obj)
}

// sweep tells of the deletion of every object told of before round n and
// not by it: gone by the time n's informers listed (listed says when, by
// namespace), unless it was told at a later resourceVersion, which n's
// watches will tell of. Deletions n's lists saw go from gone.
func (r *record) sweep(n int, listed func(namespace string) uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, t := range r.told {
		if t.seen >= n {
			continue
		}
		at := listed(namespaceOfKey(key))
		if t.rv != 0 && at != 0 && t.rv > at {
			continue
		}
		delete(r.told, key)
		r.h.OnDelete(cache.DeletedFinalStateUnknown{Key: key, Obj: t.obj})
	}
	for key, g := range r.gone {
		if at := listed(namespaceOfKey(key)); at == 0 || g <= at {
			delete(r.gone, key)
		}
	}
}

// resourceVersion is obj's resourceVersion as the number the API server
// gives, 0 when it is not one.
func resourceVersion(obj any) uint64 {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return 0
	}
	rv, _ := strconv.ParseUint(m.GetResourceVersion(), 10, 64)
	return rv
}

func namespaceOfKey(key string) string {
	ns, _, _ := cache.SplitMetaNamespaceKey(key)
	return ns
}
