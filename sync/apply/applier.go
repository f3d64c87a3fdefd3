package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Label marking what syncgate applied; only such objects are ever pruned.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "syncgate"
)

// Options configure an Applier.
type Options struct {
	FieldManager string // default "syncgate"
	Concurrency  int    // default 64
	// Prune deletes objects of the previous inventory the commit dropped.
	Prune   bool
	Logger  *slog.Logger
	Metrics prometheus.Registerer
}

// Applier applies objects with server-side apply.
type Applier struct {
	opts    Options
	dyn     dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
	log     *slog.Logger
	objects *prometheus.CounterVec
}

// New builds the clients from cfg.
func New(cfg *rest.Config, opts Options) (*Applier, error) {
	if opts.FieldManager == "" {
		opts.FieldManager = "syncgate"
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 64
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	a := &Applier{
		opts:   opts,
		dyn:    dyn,
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
		log:    opts.Logger,
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncgate_apply_objects_total", Help: "Objects handled by apply, by result (applied, unchanged, pruned, refused).",
		}, []string{"result"}),
	}
	if opts.Metrics != nil {
		if err := opts.Metrics.Register(a.objects); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return a, nil
}

// Scoper answers which kinds are namespaced, from API discovery.
func (a *Applier) Scoper() *Scoper { return &Scoper{a: a} }

// Scoper implements render.Scoper over the Applier's RESTMapper.
type Scoper struct{ a *Applier }

// IsNamespaced reports whether gvk lives in a namespace.
func (s *Scoper) IsNamespaced(gvk schema.GroupVersionKind) (bool, error) {
	m, err := s.a.mapping(gvk)
	if err != nil {
		return false, err
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// mapping resolves gvk, refreshing discovery once for kinds just created.
func (a *Applier) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		a.mapper.Reset()
		m, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	return m, err
}

// desired is one object ready to send.
type desired struct {
	ref  ObjectRef
	obj  *unstructured.Unstructured
	hash string
	res  dynamic.ResourceInterface
}

func refOf(u *unstructured.Unstructured) ObjectRef {
	gvk := u.GroupVersionKind()
	return ObjectRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

func (a *Applier) prepare(objs []*unstructured.Unstructured) ([]*desired, error) {
	out := make([]*desired, 0, len(objs))
	var errs []*ObjectError
	for _, o := range objs {
		// A JSON round trip copies the object and normalises its numbers,
		// whatever produced it (YAML decoders, kustomize).
		raw, err := json.Marshal(o.Object)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
		}
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[ManagedByLabel] = ManagedByValue
		u.SetLabels(labels)
		b, err := json.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		d := &desired{ref: refOf(u), obj: u, hash: hex.EncodeToString(sum[:16])}
		if err := a.bind(d); err != nil && !definedBy(objs, d.ref) {
			errs = append(errs, &ObjectError{Object: d.ref, Err: err})
			continue
		}
		out = append(out, d)
	}
	if len(errs) > 0 {
		return nil, &ValidationError{Objects: errs}
	}
	return out, nil
}

// bind finds the API resource an object is sent to.
func (a *Applier) bind(d *desired) error {
	m, err := a.mapping(d.ref.GroupVersionKind())
	if err != nil {
		return err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		d.res = a.dyn.Resource(m.Resource).Namespace(d.ref.Namespace)
	} else {
		d.res = a.dyn.Resource(m.Resource)
	}
	return nil
}

// definedBy reports whether a CRD among objs defines ref's kind.
func definedBy(objs []*unstructured.Unstructured, ref ObjectRef) bool {
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		if group == ref.Group && kind == ref.Kind {
			return true
		}
	}
	return false
}

func ptrUID(u *unstructured.Unstructured) *types.UID {
	uid := u.GetUID()
	return &uid
}

// Apply dry-runs every changed object, then applies them (CRDs and
// Namespaces first), then prunes what prev had and objs no longer have.
func (a *Applier) Apply(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []Entry) (*Result, error) {
	all, err := a.prepare(objs)
	if err != nil {
		return nil, err
	}
	last := map[string]string{}
	for _, e := range prev {
		last[e.id()] = e.Hash
	}
	res := &Result{}
	var first, rest []*desired
	for _, d := range all {
		res.Inventory = append(res.Inventory, Entry{ObjectRef: d.ref, Hash: d.hash})
		if last[d.ref.id()] == d.hash {
			res.Unchanged = append(res.Unchanged, d.ref)
			continue
		}
		if isFoundation(d.ref) {
			first = append(first, d)
		} else {
			rest = append(rest, d)
		}
	}
	if len(first) > 0 {
		if err := a.send(ctx, first, true); err != nil {
			return nil, err
		}
		if err := a.send(ctx, first, false); err != nil {
			return nil, err
		}
		if err := a.waitEstablished(ctx, first); err != nil {
			return nil, err
		}
	}
	// Objects of kinds the commit's own CRDs define can be mapped only now.
	for _, d := range rest {
		if d.res == nil {
			if err := a.bind(d); err != nil {
				return nil, &ValidationError{Objects: []*ObjectError{{Object: d.ref, Err: err}}}
			}
		}
	}
	// Workloads go last: what they mount and expose exists before their pods
	// start, and the controllers' work on them does not slow the rest.
	sort.SliceStable(rest, func(i, j int) bool { return !isWorkload(rest[i].ref) && isWorkload(rest[j].ref) })
	if err := a.send(ctx, rest, true); err != nil {
		return nil, err
	}
	if err := a.send(ctx, rest, false); err != nil {
		return nil, err
	}
	for _, d := range append(first, rest...) {
		res.Applied = append(res.Applied, d.ref)
	}
	a.objects.WithLabelValues("applied").Add(float64(len(res.Applied)))
	a.objects.WithLabelValues("unchanged").Add(float64(len(res.Unchanged)))
	if a.opts.Prune {
		pruned, err := a.prune(ctx, prev, res.Inventory)
		res.Pruned = pruned
		a.objects.WithLabelValues("pruned").Add(float64(len(pruned)))
		if err != nil {
			return res, err
		}
	}
	sortRefs(res.Applied)
	sortRefs(res.Pruned)
	return res, nil
}

func isWorkload(r ObjectRef) bool {
	switch r.Group + "/" + r.Kind {
	case "apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "batch/Job", "batch/CronJob":
		return true
	}
	return false
}

func isFoundation(r ObjectRef) bool {
	return (r.Group == "apiextensions.k8s.io" && r.Kind == "CustomResourceDefinition") || (r.Group == "" && r.Kind == "Namespace")
}

// send applies (or dry-runs) objects concurrently; a dry run reports every
// refusal, a real apply stops at the first error.
func (a *Applier) send(ctx context.Context, ds []*desired, dryRun bool) error {
	if len(ds) == 0 {
		return nil
	}
	opts := metav1.ApplyOptions{FieldManager: a.opts.FieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var mu sync.Mutex
	var refused []*ObjectError
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(a.opts.Concurrency)
	for _, d := range ds {
		g.Go(func() error {
			_, err := d.res.Apply(gctx, d.obj.GetName(), d.obj, opts)
			if err == nil {
				return nil
			}
			oe := &ObjectError{Object: d.ref, Err: err}
			if !dryRun || !refusal(err) {
				return oe
			}
			mu.Lock()
			refused = append(refused, oe)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if dryRun {
			return err
		}
		return fmt.Errorf("apply %w", err)
	}
	if len(refused) > 0 {
		sort.Slice(refused, func(i, j int) bool { return refused[i].Object.id() < refused[j].Object.id() })
		a.objects.WithLabelValues("refused").Add(float64(len(refused)))
		return &ValidationError{Objects: refused}
	}
	return nil
}

// refusal tells the API server's verdict on an object from trouble reaching it.
func refusal(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) || apierrors.IsForbidden(err) ||
		apierrors.IsNotFound(err) || apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) ||
		apierrors.IsMethodNotSupported(err) || apierrors.IsRequestEntityTooLargeError(err) || meta.IsNoMatchError(err)
}

func (a *Applier) waitEstablished(ctx context.Context, ds []*desired) error {
	for _, d := range ds {
		if d.ref.Kind != "CustomResourceDefinition" {
			continue
		}
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			u, err := d.res.Get(ctx, d.ref.Name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("%s not established: %w", d.ref, err)
		}
	}
	a.mapper.Reset()
	return nil
}

// prune deletes objects of prev missing from now that carry syncgate's label.
func (a *Applier) prune(ctx context.Context, prev, now []Entry) ([]ObjectRef, error) {
	keep := map[string]bool{}
	for _, e := range now {
		keep[e.id()] = true
	}
	var pruned []ObjectRef
	var errs []error
	for _, e := range prev {
		if keep[e.id()] {
			continue
		}
		m, err := a.mapping(e.GroupVersionKind())
		if err != nil {
			continue // the kind is gone, and its objects with it
		}
		var r dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			r = a.dyn.Resource(m.Resource).Namespace(e.Namespace)
		}
		live, err := r.Get(ctx, e.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("prune %s: %w", e.ObjectRef, err))
			continue
		}
		if live.GetLabels()[ManagedByLabel] != ManagedByValue {
			a.log.Info("not pruning an object syncgate did not create", "object", e.ObjectRef.String())
			continue
		}
		policy := metav1.DeletePropagationBackground
		err = r.Delete(ctx, e.Name, metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: ptrUID(live)}})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("prune %s: %w", e.ObjectRef, err))
			continue
		}
		pruned = append(pruned, e.ObjectRef)
	}
	return pruned, errors.Join(errs...)
}

func sortRefs(refs []ObjectRef) {
	sort.Slice(refs, func(i, j int) bool { return refs[i].id() < refs[j].id() })
}
