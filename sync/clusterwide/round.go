package clusterwide

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// round is one set of informers of a Watch: one for every namespace, or
// one per namespace. It runs until stopped, or until its watch in every
// namespace is refused.
type round struct {
	n      int // the record's number for it
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{} // every informer ended
	synced chan struct{} // every informer listed, and its objects told
	// listed holds, by namespace ("" for all), the resourceVersion of
	// each informer's first list.
	listed map[string]*firstList
}

var errRefused = errors.New("watch refused")

// start starts a round of w's informers, one for each entry of where
// ("" for all namespaces).
func (s *switcher) start(ctx context.Context, where []string) (*round, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	r := &round{n: s.record.renew(), ctx: ctx, cancel: cancel, done: make(chan struct{}), synced: make(chan struct{}),
		listed: make(map[string]*firstList, len(where))}
	handler := cache.FilteringResourceEventHandler{
		FilterFunc: func(obj any) bool { return s.managed[namespaceOf(obj)] },
		Handler:    s.record.from(r.n),
	}
	var running sync.WaitGroup
	defer func() {
		go func() {
			running.Wait()
			close(r.done)
		}()
	}()
	syncs := make([]cache.InformerSynced, 0, len(where))
	for _, ns := range where {
		first := &firstList{}
		r.listed[ns] = first
		listed := func(rv string, keys []string) {
			if at := number(rv); !first.set(at) {
				s.record.relisted(ns, at, s.held(keys))
			}
		}
		inf := newInformer(s.client, s.w.Resource, ns, "", cache.Indexers{}, listed)
		if err := inf.SetTransform(pare(s.managed, s.w.Transform)); err != nil {
			cancel(nil)
			return nil, err
		}
		if ns == metav1.NamespaceAll {
			if err := OnRefused(inf, func(err error) { cancel(fmt.Errorf("%w: %w", errRefused, err)) }); err != nil {
				cancel(nil)
				return nil, err
			}
		}
		reg, err := inf.AddEventHandler(handler)
		if err != nil {
			cancel(nil)
			return nil, err
		}
		running.Go(func() { inf.RunWithContext(ctx) })
		syncs = append(syncs, reg.HasSynced)
	}
	go func() {
		if cache.WaitForCacheSync(ctx.Done(), syncs...) {
			close(r.synced)
		}
	}()
	return r, nil
}

// stop ends the round's informers and waits until they have: none tells
// the handler anything after.
func (r *round) stop() {
	r.cancel(nil)
	<-r.done
}

// refused is why the round's watch in every namespace was refused, nil
// when it was not.
func (r *round) refused() error {
	if cause := context.Cause(r.ctx); errors.Is(cause, errRefused) {
		return cause
	}
	return nil
}

// listedAt is the resourceVersion of the first list the informer of
// namespace ns read whole, 0 when not known.
func (r *round) listedAt(ns string) uint64 {
	first := r.listed[ns]
	if first == nil {
		first = r.listed[metav1.NamespaceAll]
	}
	if first == nil {
		return 0
	}
	return first.get()
}

// held is the set of keys of managed namespaces.
func (s *switcher) held(keys []string) map[string]bool {
	held := make(map[string]bool)
	for _, key := range keys {
		if s.managed[namespaceOfKey(key)] {
			held[key] = true
		}
	}
	return held
}

// firstList keeps the resourceVersion of the first list an informer
// read whole, the one it synced on: the objects its handler is told of
// once it synced are those of that list, whatever it read since. A list
// read in pages that failed part-way is not one.
type firstList struct {
	mu   sync.Mutex
	read bool
	rv   uint64
}

// set keeps rv if no list was read whole before, and says whether it did.
func (f *firstList) set(rv uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.read {
		return false
	}
	f.read, f.rv = true, rv
	return true
}

func (f *firstList) get() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rv
}

// initialEvents passes on the events of w, a watch streaming its initial
// events (a list as a watch), telling listed the resourceVersion of the
// bookmark that ends them and the keys of the objects they added.
func initialEvents(w watch.Interface, listed func(rv string, keys []string)) watch.Interface {
	p := &passOn{Interface: w, result: make(chan watch.Event), stopped: make(chan struct{})}
	go func() {
		defer close(p.result)
		var keys []string
		initial := true
		for e := range w.ResultChan() {
			switch {
			case !initial:
			case e.Type == watch.Added:
				if key, err := cache.MetaNamespaceKeyFunc(e.Object); err == nil {
					keys = append(keys, key)
				}
			case e.Type == watch.Bookmark:
				if m, err := meta.Accessor(e.Object); err == nil && m.GetAnnotations()[metav1.InitialEventsAnnotationKey] == "true" {
					initial = false
					listed(m.GetResourceVersion(), keys)
					keys = nil
				}
			}
			select {
			case p.result <- e:
			case <-p.stopped:
				return
			}
		}
	}()
	return p
}

type passOn struct {
	watch.Interface
	result  chan watch.Event
	stopped chan struct{}
	once    sync.Once
}

func (p *passOn) ResultChan() <-chan watch.Event { return p.result }

func (p *passOn) Stop() {
	p.once.Do(func() { close(p.stopped) })
	p.Interface.Stop()
}
