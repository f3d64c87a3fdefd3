package readiness

import (
	"time"

	"context"
	"fmt"
	"maps"
	"sync"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/sync/healthrule"
)

// watchSet is what one Wait reads: the shared informer of each object,
// and the objects as its first list found them.
type watchSet struct {
	pool        *pool
	where       map[Object]place
	seeds       map[Object]*unstructured.Unstructured
	pods        map[string]*entry // by namespace
	replicaSets map[string]*entry
	held        map[*entry]map[string]bool // the namespaces subscribed to
	w           *waiter
	rules       *healthrule.Rules
	ruleErrors  func(r Object, msg string)
	judged      map[Object]judgement // judged.go
	judgedAnew  int                  // judgements made, kept or not
}

// place is where an object is read: its informer, and its namespace ("" for
// a cluster-scoped kind).
type place struct {
	entry     *entry
	namespace string
}

// waiter is poked on every change of what a Wait reads.
type waiter struct {
	changed chan struct{}
	mu      sync.Mutex
	gone    map[Object]bool // deleted since the first list
}

func (w *waiter) poke() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func (w *waiter) deleted(obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gone[Object{GroupKind: u.GroupVersionKind().GroupKind(), Namespace: u.GetNamespace(), Name: u.GetName()}] = true
}

func (w *waiter) isGone(r Object) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gone[r]
}

var (
	podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	rsGVR   = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
)

// listing is one kind in one namespace ("" for a cluster-scoped kind) to
// list as the namespace's identity before the first evaluation.
type listing struct {
	gvr       schema.GroupVersionResource
	kind      schema.GroupKind
	namespace string
	selector  string
}

// watch subscribes to the informers of refs, waits for their caches and
// lists what the shared informers might hold stale. The set returned is
// closed by the caller, error or not.
func (c *Checker) watch(ctx context.Context, namespace string, refs []Object) (*watchSet, error) {
	ws := &watchSet{
		pool: c.pool, where: map[Object]place{}, seeds: map[Object]*unstructured.Unstructured{},
		pods: map[string]*entry{}, replicaSets: map[string]*entry{}, held: map[*entry]map[string]bool{},
		w:     &waiter{changed: make(chan struct{}, 1), gone: map[Object]bool{}},
		rules: c.opts.Rules, ruleErrors: c.ruleErrorLogger(),
	}
	dyn, err := c.clients.Dynamic(namespace)
	if err != nil {
		return ws, fmt.Errorf("readiness: %w", err)
	}
	lists := map[listing][]string{}
	for _, r := range refs {
		m, err := c.clients.Mapping(r.GroupKind.WithVersion(""))
		if err != nil {
			return ws, fmt.Errorf("readiness %s: %w", r, err)
		}
		ns := r.Namespace
		if m.Scope.Name() != meta.RESTScopeNameNamespace {
			ns = ""
		}
		e, fresh, err := c.hold(ctx, ws, dyn, namespace, m.Resource, ns, pareFor(r.GroupKind, c.opts.Rules))
		if err != nil {
			return ws, err
		}
		ws.where[r] = place{entry: e, namespace: ns}
		// A cache syncgate lists for all namespaces says nothing of what
		// the namespace's identity may read; one started before this Wait
		// may not yet hold what was just applied.
		if !fresh || e.key.identity == "" {
			l := listing{gvr: m.Resource, kind: r.GroupKind, namespace: ns, selector: e.key.selector}
			lists[l] = append(lists[l], r.Name)
		}
		if isWorkload(r) && ws.pods[ns] == nil {
			if ws.pods[ns], _, err = c.hold(ctx, ws, dyn, namespace, podsGVR, ns, podTroubles); err != nil {
				return ws, err
			}
			if ws.replicaSets[ns], _, err = c.hold(ctx, ws, dyn, namespace, rsGVR, ns, revisions); err != nil {
				return ws, err
			}
		}
	}
	for e := range ws.held {
		select {
		case <-e.ready:
			if e.err != nil {
				if e.key.identity == "" {
					c.grants.Forget(e.key.gvr)
				}
				return ws, e.err
			}
		case <-ctx.Done():
			return ws, fmt.Errorf("readiness: watch of %s did not start: %w", e.key, ctx.Err())
		}
	}
	// The lists at once: a rollout waiting for several kinds waits for
	// one round trip, not one per kind.
	g, gctx := errgroup.WithContext(ctx)
	found := make([]map[Object]*unstructured.Unstructured, len(lists))
	i := 0
	for l, names := range lists {
		at := i
		g.Go(func() (err error) {
			found[at], err = c.seed(gctx, dyn, l, names)
			return err
		})
		i++
	}
	if err := g.Wait(); err != nil {
		return ws, err
	}
	for _, f := range found {
		maps.Copy(ws.seeds, f)
	}
	return ws, nil
}

// hold acquires the informer of gvr in ns for namespace's Wait and
// subscribes the set to ns's changes.
func (c *Checker) hold(ctx context.Context, ws *watchSet, dyn dynamic.Interface, namespace string, gvr schema.GroupVersionResource, ns string, p pare) (*entry, bool, error) {
	k, client := key{gvr: gvr, namespace: ns, identity: namespace, pare: p}, dyn
	if c.grants.May(ctx, gvr) {
		k, client = key{gvr: gvr, pare: p}, c.opts.Own
		if p != podTroubles && p != revisions {
			k.selector = c.selector
		}
	}
	e, fresh, err := c.pool.acquire(k, client)
	if err != nil {
		return nil, false, fmt.Errorf("readiness: watch %s: %w", k, err)
	}
	if ws.held[e] == nil {
		ws.held[e] = map[string]bool{}
	} else {
		c.pool.release(e) // held once per set
	}
	if !ws.held[e][ns] {
		ws.held[e][ns] = true
		e.subscribe(ns, ws.w)
	}
	return e, fresh, nil
}

// close lets go of the informers; they stop once no Wait holds them.
func (ws *watchSet) close() {
	for e, namespaces := range ws.held {
		for ns := range namespaces {
			e.unsubscribe(ns, ws.w)
		}
		ws.pool.release(e)
	}
	ws.held = nil
}

func (ws *watchSet) snapshot() *snapshot {
	return &snapshot{ws: ws, now: time.Now()}
}

// newer tells whether a holds a later state of an object than b: resource
// versions are comparable (apimachinery's resourceversion).
func newer(a, b *unstructured.Unstructured) bool {
	n, err := resourceversion.CompareResourceVersion(a.GetResourceVersion(), b.GetResourceVersion())
	return err == nil && n > 0
}
