package readiness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"

	"github.com/syncgate/syncgate/sync/apply"
)

// Options configure a Checker.
type Options struct {
	// Timeout bounds one Wait (default 5m).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Checker waits for sets of objects to be ready. It is safe for concurrent
// use.
type Checker struct {
	opts   Options
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
	log    *slog.Logger
}

// New builds the clients.
func New(cfg *rest.Config, opts Options) (*Checker, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("readiness: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("readiness: %w", err)
	}
	return &Checker{
		opts: opts, dyn: dyn, log: opts.Logger,
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
	}, nil
}

// Wait returns nil once every object is Current (kstatus) with its latest
// generation observed by its controller, a *FailedError as soon as one
// cannot become so, or, after Options.Timeout, an error wrapping ErrTimeout
// that names what is not ready. progress, if set, is called with the first
// state and on every change.
//
// It watches the objects' kinds (and the pods and ReplicaSets of the
// namespaces holding workloads); each event re-evaluates the set. Watching
// starts after the objects were applied, so none is judged on a state older
// than its apply.
func (c *Checker) Wait(ctx context.Context, refs []apply.ObjectRef, progress func(Progress)) error {
	start := time.Now()
	if len(refs) == 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	ws, err := c.watch(wctx, refs)
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
	where       map[apply.ObjectRef]target
	listers     map[target]cache.GenericLister
	pods        map[string]cache.GenericLister // by namespace
	replicaSets map[string]cache.GenericLister
	changed     chan struct{}
	stop        func()
}

// target is a resource in a namespace ("" for cluster-scoped kinds).
type target struct {
	gvk       schema.GroupVersionKind
	namespace string
}

var (
	podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	rsGVR   = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
)

func (c *Checker) watch(ctx context.Context, refs []apply.ObjectRef) (*watchSet, error) {
	ws := &watchSet{
		where:       map[apply.ObjectRef]target{},
		listers:     map[target]cache.GenericLister{},
		pods:        map[string]cache.GenericLister{},
		replicaSets: map[string]cache.GenericLister{},
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
	factories := map[string]dynamicinformer.DynamicSharedInformerFactory{}
	factory := func(ns string) dynamicinformer.DynamicSharedInformerFactory {
		f, ok := factories[ns]
		if !ok {
			f = dynamicinformer.NewFilteredDynamicSharedInformerFactory(c.dyn, 0, ns, nil)
			factories[ns] = f
		}
		return f
	}
	inform := func(ns string, gvr schema.GroupVersionResource) (cache.GenericLister, error) {
		inf := factory(ns).ForResource(gvr)
		if _, err := inf.Informer().AddEventHandler(handler); err != nil {
			return nil, err
		}
		return inf.Lister(), nil
	}
	for _, r := range refs {
		gvk := r.GroupVersionKind()
		m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			c.mapper.Reset()
			m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		}
		if err != nil {
			return nil, fmt.Errorf("readiness %s: %w", r, err)
		}
		ns := r.Namespace
		if m.Scope.Name() != meta.RESTScopeNameNamespace {
			ns = metav1.NamespaceAll
		}
		t := target{gvk, ns}
		ws.where[r] = t
		if _, ok := ws.listers[t]; !ok {
			if ws.listers[t], err = inform(ns, m.Resource); err != nil {
				return nil, err
			}
		}
		if isWorkload(r) && ws.pods[ns] == nil {
			if ws.pods[ns], err = inform(ns, podsGVR); err != nil {
				return nil, err
			}
			if ws.replicaSets[ns], err = inform(ns, rsGVR); err != nil {
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
		for gvr, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				ws.stop()
				return nil, fmt.Errorf("readiness: watch of %s did not start", gvr.Resource)
			}
		}
	}
	return ws, nil
}

func (ws *watchSet) snapshot() *snapshot {
	return &snapshot{ws: ws, pods: map[string]*owned{}}
}
