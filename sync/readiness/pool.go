package readiness

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/syncgate/syncgate/sync/clusterwide"
)

// key names one shared informer: a resource, where it is watched, as whom
// and through which label selector.
type key struct {
	gvr schema.GroupVersionResource
	// namespace is where it is watched, "" for every namespace.
	namespace string
	// identity is the managed namespace whose account watches, "" for
	// syncgate itself.
	identity string
	selector string
	pare     pare
}

func (k key) String() string {
	s := k.gvr.Resource
	if k.namespace != "" {
		s += " in " + k.namespace
	} else {
		s += " in all namespaces"
	}
	if k.identity == "" {
		s += " as syncgate"
	}
	return s
}

// pool holds the informers every Wait shares: one per key, started when a
// rollout first needs it and stopped linger after the last one ended, so
// that open watches follow the kinds being rolled out, not the number of
// rollouts. It is safe for concurrent use.
type pool struct {
	linger time.Duration
	log    *slog.Logger

	mu      sync.Mutex
	entries map[key]*entry
	started int // informers started, ever
}

func newPool(linger time.Duration, log *slog.Logger) *pool {
	return &pool{linger: linger, log: log, entries: map[key]*entry{}}
}

// entry is one shared informer and the Waits using it.
type entry struct {
	key     key
	inf     cache.SharedIndexInformer
	indexer cache.Indexer // indexers
	lister  cache.GenericLister
	stop    chan struct{}
	// ready is closed once the cache synced or the watch was refused (err).
	ready chan struct{}
	once  sync.Once
	err   error

	// Guarded by the pool's mutex.
	holders int
	idle    *time.Timer

	mu   sync.Mutex
	subs map[string]map[*waiter]struct{} // by the namespace of the objects
}

// acquire returns the informer of k, started with client when no Wait
// holds one already; fresh tells that this call started it (so its cache
// was listed after the call began). Every acquire is paired with a release.
func (p *pool) acquire(k key, client dynamic.Interface) (e *entry, fresh bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.entries[k]; e != nil {
		e.holders++
		if e.idle != nil {
			e.idle.Stop()
			e.idle = nil
		}
		return e, false, nil
	}
	e = &entry{key: k, stop: make(chan struct{}), ready: make(chan struct{}), subs: map[string]map[*waiter]struct{}{}}
	e.inf = clusterwide.NewInformer(client, k.gvr, k.namespace, k.selector, indexers)
	e.indexer = e.inf.GetIndexer()
	e.lister = cache.NewGenericLister(e.indexer, k.gvr.GroupResource())
	if err := e.inf.SetTransform(k.pare.transform); err != nil {
		return nil, false, err
	}
	// A list or watch the identity may not make is retried by the informer
	// for ever; it ends every Wait using it at once instead.
	if err := clusterwide.OnRefused(e.inf, func(err error) { p.refused(e, fmt.Errorf("readiness: watch %s: %w", k, err)) }); err != nil {
		return nil, false, err
	}
	if _, err := e.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { e.dispatch(obj, false) },
		UpdateFunc: func(_, obj any) { e.dispatch(obj, false) },
		DeleteFunc: func(obj any) { e.dispatch(obj, true) },
	}); err != nil {
		return nil, false, err
	}
	e.holders = 1
	p.entries[k] = e
	p.started++
	go e.inf.Run(e.stop)
	go func() {
		if cache.WaitForCacheSync(e.stop, e.inf.HasSynced) {
			e.once.Do(func() { close(e.ready) })
		}
	}()
	p.log.Debug("informer started", "watch", k.String())
	return e, true, nil
}

// refused ends e: its holders see err, and the next Wait starts anew.
func (p *pool) refused(e *entry, err error) {
	e.once.Do(func() {
		e.err = err
		close(e.ready)
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.entries[e.key] == e {
		delete(p.entries, e.key)
		close(e.stop)
	}
}

// release ends one holder's use of e; the informer stops linger after its
// last holder, unless a Wait needs it again meanwhile.
func (p *pool) release(e *entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.holders--
	if e.holders > 0 || p.entries[e.key] != e {
		return
	}
	e.idle = time.AfterFunc(p.linger, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if e.holders == 0 && p.entries[e.key] == e {
			delete(p.entries, e.key)
			close(e.stop)
			p.log.Debug("informer stopped", "watch", e.key.String())
		}
	})
}

// Watches counts the informers of the pool: open now, and started since
// the Checker was made.
func (p *pool) watches() (open, started int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries), p.started
}

// subscribe has w poked on every change of an object of e in namespace
// ns ("" for cluster-scoped objects) until unsubscribe.
func (e *entry) subscribe(ns string, w *waiter) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.subs[ns] == nil {
		e.subs[ns] = map[*waiter]struct{}{}
	}
	e.subs[ns][w] = struct{}{}
}

func (e *entry) unsubscribe(ns string, w *waiter) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.subs[ns], w)
	if len(e.subs[ns]) == 0 {
		delete(e.subs, ns)
	}
}

func (e *entry) dispatch(obj any, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj, deleted = d.Obj, true
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for w := range e.subs[m.GetNamespace()] {
		if deleted {
			w.deleted(obj)
		}
		w.poke()
	}
}
