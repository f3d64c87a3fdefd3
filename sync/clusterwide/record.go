package clusterwide

import (
	"sync"

	"k8s.io/client-go/tools/cache"
)

// record passes events on to a handler and remembers what it told, so
// that when a watch is replaced by another (cluster-wide refused, per
// namespace instead) an object deleted in between, which the new
// informers never see, is told deleted rather than kept for ever.
// Handler calls are made under its lock, one at a time.
type record struct {
	h cache.ResourceEventHandler

	mu sync.Mutex
	// round counts the sets of informers started; told holds, by key,
	// each object told and the round that last told of it.
	round int
	told  map[string]told
}

type told struct {
	obj   any
	round int
}

func newRecord(h cache.ResourceEventHandler) *record {
	return &record{h: h, told: map[string]told{}}
}

// renew starts a round: a new set of informers, each listing afresh.
func (r *record) renew() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.round++
}

// sweep tells Handler of the deletion of every object told of in an
// earlier round and not since: the round's informers have synced without
// it, so it is gone.
func (r *record) sweep() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, t := range r.told {
		if t.round < r.round {
			delete(r.told, key)
			r.h.OnDelete(cache.DeletedFinalStateUnknown{Key: key, Obj: t.obj})
		}
	}
}

func (r *record) note(obj any) {
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		r.told[key] = told{obj: obj, round: r.round}
	}
}

func (r *record) OnAdd(obj any, initial bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.note(obj)
	r.h.OnAdd(obj, initial)
}

func (r *record) OnUpdate(old, obj any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.note(obj)
	r.h.OnUpdate(old, obj)
}

func (r *record) OnDelete(obj any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		delete(r.told, key)
	}
	r.h.OnDelete(obj)
}
