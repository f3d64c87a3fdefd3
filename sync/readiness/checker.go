package readiness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/sync/clusterwide"
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
	// Rules judge the kinds they name in place of kstatus.
	Rules *healthrule.Rules
	// Own is syncgate's own client. With it, a kind syncgate may list and
	// watch in every namespace is watched once for all of them: the
	// objects it applied (label syncgate.dev/owner naming one of Owners),
	// and every pod and ReplicaSet, pared to what readiness reads. Other
	// kinds, and every kind without Own, are watched per namespace as the
	// namespace's identity. Either way a namespace's objects are first
	// listed as its identity, so what it may not read fails its Wait.
	Own dynamic.Interface
	// Grants say what Own may list and watch in every namespace, asked
	// as Own; the one Grants of syncgate's identity, shared with its
	// other watches (the Versions'). Set with Own, and only then.
	Grants *clusterwide.Grants
	// Owners are the managed namespaces, the owner label values the
	// watches through Own select; empty selects any value.
	Owners []string
	// Linger is how long a watch no Wait uses is kept open (default 1m),
	// so that the commits of a burst share it.
	Linger time.Duration
	Logger *slog.Logger
}

// Checker waits for sets of objects to be ready. It is safe for concurrent
// use.
type Checker struct {
	opts     Options
	clients  Clients
	log      *slog.Logger
	pool     *pool
	grants   *clusterwide.Grants
	selector string
}

// New checks the options.
func New(opts Options) (*Checker, error) {
	if opts.Clients == nil {
		return nil, errors.New("readiness: clients are required")
	}
	if opts.Linger <= 0 {
		opts.Linger = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if (opts.Own == nil) != (opts.Grants == nil) {
		return nil, errors.New("readiness: Own and Grants go together")
	}
	sel, err := ownerSelector(opts.Owners)
	if err != nil {
		return nil, err
	}
	return &Checker{opts: opts, clients: opts.Clients, log: opts.Logger, selector: sel,
		pool: newPool(opts.Linger, opts.Logger), grants: opts.Grants}, nil
}

// Watches counts the watches of the Checker: open now, and started since
// it was made.
func (c *Checker) Watches() (open, started int) { return c.pool.watches() }

// firstLook is how long the watches of a Wait may take to start when its
// deadline is nearer, or past: the objects are judged at least once.
const firstLook = 30 * time.Second

// Wait returns nil once every object is Current (kstatus) with its latest
// generation observed by its controller, a *FailedError as soon as one
// cannot become so, or, at deadline (the end of the health timeout, which
// the caller measures), an error wrapping ErrTimeout that names what is
// not ready. A deadline already past is judged against once: the objects
// as they are now are ready, failed or timed out. progress, if set, is
// called with the first state, with the last, and with changes between
// them at most once a second; a change held back is reported once its
// time comes, though nothing changes after it.
//
// It reads the objects' kinds (and the pods and ReplicaSets of the
// namespaces holding workloads) from informers every Wait shares (see
// Options.Own); each event about the namespaces of refs re-evaluates the
// set. The objects' kinds are first listed as namespace's identity, the
// one the objects were applied as: a list or watch the identity may not
// make fails Wait at once, and an object is judged on the newer of what
// that list and the shared informer hold, so none on a state older than
// its apply.
func (c *Checker) Wait(ctx context.Context, namespace string, refs []Object, deadline time.Time, progress func(Progress)) error {
	if len(refs) == 0 {
		return nil
	}
	wctx, cancel := context.WithDeadline(ctx, later(deadline, time.Now().Add(firstLook)))
	defer cancel()
	ws, err := c.watch(wctx, namespace, refs)
	defer ws.close()
	if err != nil {
		if wctx.Err() != nil {
			return c.ended(ctx, nil)
		}
		return err
	}

	expired := time.NewTimer(time.Until(deadline))
	defer expired.Stop()
	pace := pacer{every: progressEvery}
	for {
		snap := ws.snapshot()
		p, err := snap.evaluate(refs)
		if err != nil {
			c.log.Info("rollout failed", "err", err)
			return err
		}
		if pace.offer(p, time.Now()) {
			c.log.Debug("rollout progress", "ready", p.Ready, "total", p.Total)
			if progress != nil {
				progress(p)
			}
		}
		if p.Ready == p.Total {
			return nil
		}
		if !time.Now().Before(deadline) {
			return c.ended(ctx, p.Pending)
		}
		var held, recheck <-chan time.Time
		if due, ok := pace.due(); ok {
			held = time.After(time.Until(due))
		}
		if !snap.recheck.IsZero() {
			recheck = time.After(time.Until(snap.recheck))
		}
		select {
		case <-ctx.Done():
			return c.ended(ctx, p.Pending)
		case <-expired.C: // judged once more, then timed out
		case <-ws.w.changed:
		case <-held: // the held change's time came: evaluated and reported again
		case <-recheck: // a verdict moves with the clock: judged again
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ended tells the health timeout from the caller giving up.
func (c *Checker) ended(parent context.Context, pending []string) error {
	if err := parent.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if len(pending) > 5 {
		pending = append(pending[:5:5], fmt.Sprintf("and %d more", len(pending)-5))
	}
	if len(pending) == 0 {
		pending = []string{"watches did not start"}
	}
	return fmt.Errorf("%w, not ready: %s", ErrTimeout, strings.Join(pending, "; "))
}
