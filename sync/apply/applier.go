package apply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
)

// Options configure an Applier.
type Options struct {
	// FieldManager owns the fields syncgate applies (default "syncgate").
	FieldManager string
	// Concurrency bounds the requests in flight (default 64).
	Concurrency int
	// Prune deletes objects of the previous inventory that the commit no
	// longer has. The zero value does not prune; syncgate run turns it on
	// unless configured otherwise.
	Prune bool
	// ServiceAccount, when set, is who each namespace is worked on as: the
	// objects of namespace ns are dry-run, applied, pruned, read for drift
	// and listed by Owned as the ServiceAccount ns/<ServiceAccount>
	// (impersonation, see Clients). Empty: as syncgate itself, for every
	// namespace, which confines nothing.
	ServiceAccount string
	// AllowNamespaces and AllowClusterScoped say what a namespace's commit
	// may own besides objects of the namespace, as render's options of the
	// same names. Prune deletes nothing else, whatever the inventory says.
	AllowNamespaces    []string
	AllowClusterScoped bool
	// EstablishTimeout bounds the wait for a commit's CRDs to be served
	// (default 1m).
	EstablishTimeout time.Duration
	// Clients are the clients to work with, built once for every part
	// that reads or writes the namespaces (NewClients); cfg and
	// ServiceAccount are then not used to build others.
	Clients *Clients
	// ReadyAsApplied, when set, judges each object as the server answered
	// its apply; those it finds ready are listed in Result.Ready
	// (readiness.Checker.ReadyAsApplied).
	ReadyAsApplied func(*unstructured.Unstructured) bool
	Logger         *slog.Logger
	// Metrics registers the apply metrics when set.
	Metrics prometheus.Registerer
}

// Applier applies the objects of one namespace at a time. It is safe for
// concurrent use by several namespaces.
type Applier struct {
	opts    Options
	clients *Clients
	allowed map[string]bool
	log     *slog.Logger
	metrics *metrics
	memo    *memo
}

// New builds the clients from cfg, unless Options.Clients gives them. The
// API rate limits of cfg (QPS, Burst) apply; with Concurrency requests in
// flight, a low QPS is what bounds a large first sync.
func New(cfg *rest.Config, opts Options) (*Applier, error) {
	if opts.FieldManager == "" {
		opts.FieldManager = "syncgate"
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 64
	}
	if opts.EstablishTimeout <= 0 {
		opts.EstablishTimeout = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	clients := opts.Clients
	if clients == nil {
		var err error
		if clients, err = NewClients(cfg, opts.ServiceAccount); err != nil {
			return nil, fmt.Errorf("apply: %w", err)
		}
	}
	m, err := newMetrics(opts.Metrics)
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	allowed := map[string]bool{}
	for _, ns := range opts.AllowNamespaces {
		allowed[ns] = true
	}
	return &Applier{opts: opts, clients: clients, allowed: allowed, log: opts.Logger, metrics: m, memo: &memo{}}, nil
}

// Clients are the Applier's clients, for the readiness checks of the same
// namespaces: one discovery cache, one set of clients per namespace.
func (a *Applier) Clients() *Clients { return a.clients }

// Apply makes the cluster hold objs, the whole desired state of namespace,
// given prev, the inventory the last Apply returned:
//
//  1. Objects whose desired-state hash equals their prev entry's are not
//     sent at all: a resync of an unchanged commit makes no mutating request.
//  2. Every other object is dry-run (server-side apply, dryRun=All). If any
//     is refused, Apply returns a *ValidationError naming each refused object
//     and has written nothing. Exception: the commit's CRDs and Namespaces
//     are dry-run, applied and (CRDs) waited for until Established first,
//     since objects of those kinds or in those namespaces cannot be dry-run
//     before they exist.
//  3. The changed objects are applied for real, each workload as soon as
//     what its pod template uses is applied (ConfigMaps, Secrets, its
//     ServiceAccount and claims; the namespace's Services unless it turns
//     enableServiceLinks off), everything else at once (order.go).
//  4. With Options.Prune, objects of prev that objs no longer has are
//     deleted if namespace may own them (Options.AllowNamespaces,
//     AllowClusterScoped) and the live object carries namespace's
//     OwnerLabel and no AdoptedAnnotation; the others are left in place
//     and listed in Result.Kept.
//
// An object that exists before syncgate first writes it, without being
// namespace's, is adopted: it gets AdoptedAnnotation before it is taken
// over, and is listed in Result.Adopted. Everything is sent as namespace's
// ServiceAccount when Options.ServiceAccount is set.
//
// Once writing began, a failed Apply returns a Result too, whose Inventory
// says what is live: prev updated with what was written, and with what
// may have been (a write whose answer was lost), without a hash.
//
// Errors name the object: "apply Deployment team-a/web: <message>".
func (a *Applier) Apply(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []Entry) (*Result, error) {
	return a.ApplyKeyed(ctx, namespace, objs, nil, prev)
}

// ApplyKeyed is Apply given keys[i] for objs[i], as sync/render's
// RenderKeyed gives them: an object whose non-empty key the namespace's
// last ApplyKeyed was given too, and whose hash then is its inventory
// entry's, is known unchanged without being copied, encoded or hashed
// again (memo.go). Keys not naming each object are not used.
func (a *Applier) ApplyKeyed(ctx context.Context, namespace string, objs []*unstructured.Unstructured, keys []string, prev []Entry) (*Result, error) {
	start := time.Now()
	res, err := a.apply(ctx, namespace, objs, keys, prev)
	a.metrics.observe("apply", start, err)
	var ve *ValidationError
	if errors.As(err, &ve) {
		a.metrics.count("refused", len(ve.Objects))
	}
	return res, err
}

func (a *Applier) apply(ctx context.Context, namespace string, objs []*unstructured.Unstructured, keys []string, prev []Entry) (*Result, error) {
	via, err := a.clients.of(namespace)
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	last := hashes(prev)
	k := a.keyedBy(namespace, objs, keys, last)
	all, refused := a.prepare(namespace, via, objs, k)
	k.store()
	res := &Result{}
	var first, rest []*desired
	for _, d := range all {
		res.Inventory = append(res.Inventory, d.entry())
		switch {
		case last[d.ref.id()] == d.hash:
			res.Unchanged = append(res.Unchanged, d.ref)
		case isFoundation(d.ref):
			first = append(first, d)
		default:
			rest = append(rest, d)
		}
	}
	if len(refused) > 0 {
		// Report the dry run's refusals too, unless they would be
		// judged without the commit's CRDs and Namespaces.
		if len(first) == 0 {
			var ve *ValidationError
			if err := a.dryRun(ctx, rest); errors.As(err, &ve) {
				refused = append(refused, ve.Objects...)
			}
		}
		sortErrors(refused)
		return nil, &ValidationError{Objects: refused}
	}
	w := &written{prev: prev}
	if len(first) > 0 {
		if err := a.dryRun(ctx, first); err != nil {
			return nil, err
		}
		if err := a.write(ctx, namespace, first, w); err != nil {
			return w.result(), err
		}
		if err := a.waitEstablished(ctx, first); err != nil {
			return w.result(), err
		}
	}
	if err := a.dryRun(ctx, rest); err != nil {
		if len(first) > 0 {
			return w.result(), err
		}
		return nil, err
	}
	if err := a.write(ctx, namespace, rest, w); err != nil {
		return w.result(), err
	}
	res.Applied, res.Adopted, res.Ready = w.refs()
	a.metrics.count("applied", len(res.Applied))
	a.metrics.count("adopted", len(res.Adopted))
	a.metrics.count("unchanged", len(res.Unchanged))
	if a.opts.Prune {
		pruned, kept, failed, err := a.prune(ctx, namespace, via, prev, res.Inventory)
		sortRefs(pruned)
		res.Pruned, res.Kept = pruned, kept
		a.metrics.count("kept", len(kept))
		a.metrics.count("pruned", len(pruned))
		if err != nil {
			// Still owed: the next Apply tries again.
			res.Inventory = append(res.Inventory, failed...)
			var refs []ObjectRef
			for _, e := range failed {
				refs = append(refs, e.ObjectRef)
			}
			return res, &PruneError{Objects: refs, Err: err}
		}
	}
	return res, nil
}

// dryRun sends every object with dryRun=All and reports every refusal.
func (a *Applier) dryRun(ctx context.Context, ds []*desired) error {
	if len(ds) == 0 {
		return nil
	}
	start := time.Now()
	var mu sync.Mutex
	var refused []*ObjectError
	err := a.each(ctx, [][]*desired{ds}, []int{a.opts.Concurrency}, func(ctx context.Context, d *desired) error {
		err := a.sendDry(ctx, d)
		if err == nil {
			return nil
		}
		oe := &ObjectError{Object: d.ref, Err: err}
		if Transient(err) {
			return oe // the server could not judge
		}
		mu.Lock()
		refused = append(refused, oe)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("dry run %w", err)
	}
	if len(refused) > 0 {
		sortErrors(refused)
		return &ValidationError{Objects: refused}
	}
	a.log.Debug("dry run passed", "objects", len(ds), "duration", time.Since(start))
	return nil
}

// write applies the objects for real, in the order of order.go (each
// workload once what it uses is applied, Services in a lane of their own:
// schedule), and stops at the first error.
//
// An object that exists without being namespace's is marked adopted before
// it is taken over, so that it is never pruned.
func (a *Applier) write(ctx context.Context, namespace string, ds []*desired, w *written) error {
	if len(ds) == 0 {
		return nil
	}
	start := time.Now()
	adopt, err := a.adoptions(ctx, namespace, ds)
	if err != nil {
		return err
	}
	apply := func(ctx context.Context, d *desired) error {
		adopted := false
		if adopt[d.ref.id()] {
			var err error
			if adopted, err = a.markAdopted(ctx, namespace, d); err != nil {
				return &ObjectError{Object: d.ref, Err: err}
			}
		}
		got, err := a.send(ctx, d)
		if err != nil {
			if mayHaveTakenEffect(err) {
				w.mayBeLive(d)
			}
			return &ObjectError{Object: d.ref, Err: err}
		}
		w.add(d, adopted, got != nil && a.opts.ReadyAsApplied != nil && a.opts.ReadyAsApplied(got))
		return nil
	}
	if err := schedule(ctx, ds, a.opts.Concurrency, apply); err != nil {
		return fmt.Errorf("apply %w", err)
	}
	a.log.Debug("applied", "objects", len(ds), "duration", time.Since(start))
	return nil
}

// each runs fn over lanes of objects, each lane in order with its own bound
// on requests in flight; the first error stops all lanes.
func (a *Applier) each(ctx context.Context, lanes [][]*desired, limits []int, fn func(context.Context, *desired) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for i, lane := range lanes {
		var next atomic.Int64
		for range min(limits[i], len(lane)) {
			g.Go(func() error {
				for {
					if err := gctx.Err(); err != nil {
						return err
					}
					k := int(next.Add(1) - 1)
					if k >= len(lane) {
						return nil
					}
					if err := fn(gctx, lane[k]); err != nil {
						return err
					}
				}
			})
		}
	}
	return g.Wait()
}

func sortErrors(errs []*ObjectError) {
	sort.Slice(errs, func(i, j int) bool { return errs[i].Object.id() < errs[j].Object.id() })
}

// written records what an Apply wrote, so that a failed Apply still says
// what is live.
type written struct {
	mu             sync.Mutex
	prev           []Entry
	done           []*desired
	unknown        []*desired // sent, and no answer says whether they were stored
	adopted, ready []ObjectRef
}

// mayBeLive records d as sent without an answer that says whether the API
// server stored it.
func (w *written) mayBeLive(d *desired) {
	w.mu.Lock()
	w.unknown = append(w.unknown, d)
	w.mu.Unlock()
}

func (w *written) add(d *desired, adopted, ready bool) {
	w.mu.Lock()
	w.done = append(w.done, d)
	if adopted {
		w.adopted = append(w.adopted, d.ref)
	}
	if ready {
		w.ready = append(w.ready, d.ref)
	}
	w.mu.Unlock()
}

// refs lists what was written, what of it was adopted, and what was ready
// as written.
func (w *written) refs() (applied, adopted, ready []ObjectRef) {
	w.mu.Lock()
	defer w.mu.Unlock()
	applied = make([]ObjectRef, 0, len(w.done))
	for _, d := range w.done {
		applied = append(applied, d.ref)
	}
	sortRefs(applied)
	adopted = append(adopted, w.adopted...)
	sortRefs(adopted)
	ready = append(ready, w.ready...)
	sortRefs(ready)
	return applied, adopted, ready
}

// result of an Apply that failed after writing: the previous inventory with
// what was written, and what may have been: without a hash, so that the
// next Apply sends it whatever it holds, and in the inventory, so that a
// later commit that drops it prunes it (prune takes NotFound as done).
// What was written is in Applied, Adopted and Ready as after a whole write.
func (w *written) result() *Result {
	res := &Result{}
	res.Applied, res.Adopted, res.Ready = w.refs()
	w.mu.Lock()
	defer w.mu.Unlock()
	at := map[string]int{}
	for _, e := range w.prev {
		at[e.id()] = len(res.Inventory)
		res.Inventory = append(res.Inventory, e)
	}
	for _, d := range w.done {
		if i, ok := at[d.ref.id()]; ok {
			res.Inventory[i] = d.entry()
			continue
		}
		res.Inventory = append(res.Inventory, d.entry())
	}
	for _, d := range w.unknown {
		e := Entry{ObjectRef: d.ref}
		if i, ok := at[d.ref.id()]; ok {
			res.Inventory[i] = e
			continue
		}
		res.Inventory = append(res.Inventory, e)
	}
	return res
}
