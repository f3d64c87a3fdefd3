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
// told deleted: gone in between, which the new informers never see. So
// is an object told of that a later list of any round, read whole, did
// not hold although told at or before it: an informer listing again
// tells only of the deletions of what it held, and what another round
// told last it never held.
// Handler calls are made under its lock, one at a time.
//
// resourceVersions are compared as numbers, which Kubernetes does not
// promise: it holds for resources served from etcd. Where one is not a
// number (0 here), nothing is compared (doc.go).
type record struct {
	h cache.ResourceEventHandler

	mu sync.Mutex
	// round counts the rounds started; live is the one the handler
	// follows, alone unless overlapping; told holds, by key, each object
	// told.
	round       int
	live        int
	overlapping bool
	told        map[string]told
	// gone holds, by namespace and key, the resourceVersion each object
	// told deleted was deleted at, so that a round behind another, or
	// events an informer read before listing again, do not bring it back.
	// An entry goes once the live round, alone, told of its namespace at
	// a later resourceVersion (past, by namespace): a watch tells in
	// order. Deletions the live round tells alone need none.
	gone map[string]map[string]uint64
	past map[string]uint64
}

type told struct {
	obj any
	rv  uint64 // 0 when not a number
	// seen is the last round whose informers told of the object, passed
	// on or not.
	seen int
}

func newRecord(h cache.ResourceEventHandler) *record {
	return &record{h: h, told: map[string]told{}, gone: map[string]map[string]uint64{}, past: map[string]uint64{}}
}

// renew starts a round: a new set of informers, each listing afresh,
// beside the ones started before until settled.
func (r *record) renew() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.overlapping = r.round > 0
	r.round++
	return r.round
}

// settle makes round n the one the handler follows, alone: the round
// started after it stopped, or was abandoned.
func (r *record) settle(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settled(n)
}

func (r *record) settled(n int) {
	r.live, r.overlapping = n, false
	clear(r.past)
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
	r.advance(round, key, rv)
	t, ok := r.told[key]
	if ok {
		t.seen = max(t.seen, round)
		r.told[key] = t
		if notAfter(rv, t.rv) {
			return // told already, or newer
		}
	} else if g, deleted := r.goneAt(key); deleted && notAfter(rv, g) {
		return // a round behind another: the object is gone since
	}
	r.told[key] = told{obj: obj, rv: rv, seen: max(t.seen, round)}
	r.forget(key)
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
	rv := resourceVersion(obj)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advance(round, key, rv)
	t, ok := r.told[key]
	if !ok {
		r.deleted(key, rv)
		return
	}
	// A deletion is newer than every state of what it deleted: one older
	// than what was told is of an object since created again, or of one
	// told by another round after this informer's relist, which did not
	// hold it; relisted told that deletion if it was one.
	if rv != 0 && t.rv != 0 && rv < t.rv {
		return
	}
	delete(r.told, key)
	r.deleted(key, max(rv, t.rv))
	r.h.OnDelete(obj)
}

// deleted keeps that key was deleted at rv while rounds overlap.
func (r *record) deleted(key string, rv uint64) {
	if r.overlapping && rv != 0 {
		r.gone1(key, rv)
	}
}

// sweep tells of the deletion of every object told of before round n and
// not by it: gone by the time n's informers listed (listed says when, by
// namespace), unless it was told at a later resourceVersion, which n's
// watches will tell of. Deletions n's lists saw go from gone. n is then
// the live round.
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
	for ns := range r.gone {
		if at := listed(ns); at == 0 {
			delete(r.gone, ns)
		} else {
			r.prune(ns, at+1)
		}
	}
	r.settled(n)
}

// relisted tells of the deletion of every object of namespace ns ("" for
// every namespace) told of at or before at, the resourceVersion of a
// list read whole, that the list did not hold (held, by key): gone by
// then. Nothing is told when at is not known.
func (r *record) relisted(ns string, at uint64, held map[string]bool) {
	if at == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, t := range r.told {
		if held[key] || !notAfter(t.rv, at) || (ns != "" && namespaceOfKey(key) != ns) {
			continue
		}
		delete(r.told, key)
		r.gone1(key, at)
		r.h.OnDelete(cache.DeletedFinalStateUnknown{Key: key, Obj: t.obj})
	}
}

// advance notes that the live round, alone, told of key's namespace at
// rv, and forgets the deletions there before it.
func (r *record) advance(round int, key string, rv uint64) {
	if round != r.live || r.overlapping || rv == 0 {
		return
	}
	ns := namespaceOfKey(key)
	if rv <= r.past[ns] {
		return
	}
	r.past[ns] = rv
	r.prune(ns, rv)
}

// prune forgets the deletions of namespace ns before rv.
func (r *record) prune(ns string, rv uint64) {
	for key, g := range r.gone[ns] {
		if g < rv {
			delete(r.gone[ns], key)
		}
	}
	if len(r.gone[ns]) == 0 {
		delete(r.gone, ns)
	}
}

func (r *record) goneAt(key string) (uint64, bool) {
	g, ok := r.gone[namespaceOfKey(key)][key]
	return g, ok
}

func (r *record) gone1(key string, rv uint64) {
	ns := namespaceOfKey(key)
	if r.gone[ns] == nil {
		r.gone[ns] = map[string]uint64{}
	}
	r.gone[ns][key] = max(r.gone[ns][key], rv)
}

func (r *record) forget(key string) {
	ns := namespaceOfKey(key)
	delete(r.gone[ns], key)
	if len(r.gone[ns]) == 0 {
		delete(r.gone, ns)
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
	return number(m.GetResourceVersion())
}

// number is resourceVersion rv as a number, 0 when it is not one.
func number(rv string) uint64 {
	n, _ := strconv.ParseUint(rv, 10, 64)
	return n
}

func namespaceOfKey(key string) string {
	ns, _, _ := cache.SplitMetaNamespaceKey(key)
	return ns
}
