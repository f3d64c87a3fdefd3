package readiness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/syncgate/syncgate/sync/healthrule"
)

// Clients are the API clients readiness reads with: each namespace's
// objects as the identity they were applied as, and the kinds' mappings
// from the one discovery cache (apply.Clients are).
type Clients interface {
	// Dynamic is the client namespace's objects are read with.
	Dynamic(namespace string) (dynamic.Interface, error)
	// Mapping resolves a kind; an empty version means the preferred one.
	Mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error)
}

// Options configure a Checker.
type Options struct {
	// Clients are those the namespaces were applied with, so that a
	// namespace's objects are read as the same identity: as its
	// ServiceAccount when the applier impersonates one. Required.
	Clients Clients
	// Timeout bounds one Wait (default 5m).
	Timeout time.Duration
	// Rules judge the kinds they name in place of kstatus.
	Rules  *healthrule.Rules
	Logger *slog.Logger
}

// Checker waits for sets of objects to be ready. It is safe for concurrent
// use.
type Checker struct {
	opts    Options
	clients Clients
	log     *slog.Logger
}

// New checks the options.
func New(opts Options) (*Checker, error) {
	if opts.Clients == nil {
		return nil, errors.New("readiness: clients are required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Checker{opts: opts, clients: opts.Clients, log: opts.Logger}, nil
}

// Wait returns nil once every object is Current (kstatus) with its latest
// generation observed by its controller, a *FailedError as soon as one
// cannot become so, or, after Options.Timeout, an error wrapping ErrTimeout
// that names what is not ready. progress, if set, is called with the first
// state and on every change.
//
// It watches the objects' kinds (and the pods and ReplicaSets of the
// namespaces holding workloads) as namespace's identity, the one the
// objects were applied as; each event re-evaluates the set. A watch that
// identity may not make fails Wait at once. Watching starts after the
// objects were applied, so none is judged on a state older than its apply.
func (c *Checker) Wait(ctx context.Context, namespace string, refs []Object, progress func(Progress)) error {
	start := time.Now()
	if len(refs) == 0 {
		return nil
	}
	dyn, err := c.clients.Dynamic(namespace)
	if err != nil {
		return fmt.Errorf("readiness: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	ws, err := c.watch(wctx, dyn, refs)
	if err != nil {
		if wctx.Err() != nil {
			return c.ended(ctx, start, nil)
		}
		return err
	}
	defer ws.stop()

	var last *Progress
	for {
		p, err := ws.snapshot().evaluate(refs)
		if err != nil {
			c.log.Info("rollout failed", "err", err)
			return err
		}
		if last == nil || !reflect.DeepEqual(*last, p) {
			c.log.Debug("rollout progress", "ready", p.Ready, "total", p.Total)
			if progress != nil {
				progress(p)
			}
			last = &p
		}
		if p.Ready == p.Total {
			return nil
		}
		select {
		case <-wctx.Done():
			return c.ended(ctx, start, last.Pending)
		case <-ws.changed:
		}
	}
}

// ended tells the health timeout from the caller giving up.
func (c *Checker) ended(parent context.Context, start time.Time, pending []string) error {
	if err := parent.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if len(pending) > 5 {
		pending = append(pending[:5:5], fmt.Sprintf("and %d more", len(pending)-5))
	}
	if len(pending) == 0 {
		pending = []string{"watches did not start"}
	}
	return fmt.Errorf("%w after %s, not ready: %s", ErrTimeout, time.Since(start).Round(time.Second), strings.Join(pending, "; "))
}

// watchSet is the informers of one Wait.
type watchSet struct {
	where       map[Object]target
	listers     map[target]cache.GenericLister
	pods        map[string]cache.GenericLister // by namespace
	replicaSets map[string]cache.GenericLister
	rules       *healthrule.Rules
	ruleErrors  func(r Object, msg string)
	changed     chan struct{}
	stop        func()
}

// target is a resource in a namespace ("" for cluster-scoped kinds), or
// one object of it when name is set.
type target struct {
	kind      schema.GroupKind
	namespace string
	name      string
}

// byNameUpTo is how many objects of one kind in one namespace are watched
// each by name (a field selector) rather than by one watch of the kind.
const byNameUpTo = 8

func targetOf(r Object, m *meta.RESTMapping) target {
	ns := r.Namespace
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		ns = metav1.NamespaceAll
	}
	return target{kind: r.GroupKind, namespace: ns}
}

var (
	podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	rsGVR   = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
)

func (c *Checker) watch(ctx context.Context, dyn dynamic.Interface, refs []Object) (*watchSet, error) {
	ws := &watchSet{
		where:       map[Object]target{},
		listers:     map[target]cache.GenericLister{},
		pods:        map[string]cache.GenericLister{},
		replicaSets: map[string]cache.GenericLister{},
		rules:       c.opts.Rules,
		ruleErrors:  c.ruleErrorLogger(),
		changed:     make(chan struct{}, 1),
	}
	poke := func() {
		select {
		case ws.changed <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(any) { poke() },
	}
	// A list or watch the identity may not make is retried by the
	// informer for ever; it ends the wait for the caches at once instead.
	synced, refused := context.WithCancelCause(ctx)
	defer refused(nil)
	deny := func(what string) cache.WatchErrorHandlerWithContext {
		return func(ctx context.Context, r *cache.Reflector, err error) {
			if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
				refused(fmt.Errorf("readiness: watch %s: %w", what, err))
				return
			}
			cache.DefaultWatchErrorHandler(ctx, r, err)
		}
	}
	// One factory per namespace, and one per object watched by name.
	factories := map[[2]string]dynamicinformer.DynamicSharedInformerFactory{}
	factory := func(ns, name string) dynamicinformer.DynamicSharedInformerFactory {
		f, ok := factories[[2]string{ns, name}]
		if !ok {
			var tweak dynamicinformer.TweakListOptionsFunc
			if name != "" {
				tweak = func(o *metav1.ListOptions) {
					o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
				}
			}
			f = dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, ns, tweak)
			factories[[2]string{ns, name}] = f
		}
		return f
	}
	inform := func(ns, name string, gvr schema.GroupVersionResource) (cache.GenericLister, error) {
		inf := factory(ns, name).ForResource(gvr)
		what := gvr.Resource
		if name != "" {
			what += "/" + name
		}
		if ns != metav1.NamespaceAll {
			what += " in " + ns
		}
		if err := inf.Informer().SetWatchErrorHandlerWithContext(deny(what)); err != nil {
			return nil, err
		}
		if err := inf.Informer().SetTransform(stripManagedFields); err != nil {
			return nil, err
		}
		if _, err := inf.Informer().AddEventHandler(handler); err != nil {
			return nil, err
		}
		return inf.Lister(), nil
	}
	mappings := make([]*meta.RESTMapping, len(refs))
	perKind := map[target]int{}
	for i, r := range refs {
		m, err := c.clients.Mapping(r.GroupKind.WithVersion(""))
		if err != nil {
			return nil, fmt.Errorf("readiness %s: %w", r, err)
		}
		mappings[i] = m
		perKind[targetOf(r, m)]++
	}
	for i, r := range refs {
		m := mappings[i]
		t := targetOf(r, m)
		// A few objects of a kind are watched each by name, so that a
		// commit changing one object does not list every object of its
		// kind; more share one watch of the kind.
		if perKind[t] <= byNameUpTo {
			t.name = r.Name
		}
		ws.where[r] = t
		if _, ok := ws.listers[t]; !ok {
			var err error
			if ws.listers[t], err = inform(t.namespace, t.name, m.Resource); err != nil {
				return nil, err
			}
		}
		if isWorkload(r) && ws.pods[t.namespace] == nil {
			var err error
			if ws.pods[t.namespace], err = inform(t.namespace, "", podsGVR); err != nil {
				return nil, err
			}
			if ws.replicaSets[t.namespace], err = inform(t.namespace, "", rsGVR); err != nil {
				return nil, err
			}
		}
	}
	stop := make(chan struct{})
	ws.stop = func() {
		close(stop)
		for _, f := range factories {
			f.Shutdown()
		}
	}
	for _, f := range factories {
		f.Start(stop)
	}
	for _, f := range factories {
		for gvr, ok := range f.WaitForCacheSync(synced.Done()) {
			if !ok {
				ws.stop()
				if err := context.Cause(synced); err != nil && ctx.Err() == nil {
					return nil, err
				}
				return nil, fmt.Errorf("readiness: watch of %s did not start", gvr.Resource)
			}
		}
	}
	return ws, nil
}

func (ws *watchSet) snapshot() *snapshot {
	return &snapshot{ws: ws, pods: map[string]*owned{}}
}

// stripManagedFields drops what no readiness rule reads from an object
// before its informer stores it: managedFields are often the larger part
// of an object, and a rollout of a big commit caches every workload, pod
// and ReplicaSet of its namespace.
func stripManagedFields(obj any) (any, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		unstructured.RemoveNestedField(u.Object, "metadata", "managedFields")
	}
	return obj, nil
}
