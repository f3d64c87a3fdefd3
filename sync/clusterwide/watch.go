package clusterwide

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
)

// Watch is a resource watched in a set of namespaces for as long as it
// runs.
type Watch struct {
	Resource   schema.GroupVersionResource
	Namespaces []string
	// Handler is told of the objects of Namespaces, and of no other.
	Handler cache.ResourceEventHandler
	// Transform, when set, pares an object of Namespaces before the
	// informer keeps it and Handler sees it; objects of other namespaces
	// are kept as their name and resourceVersion only.
	Transform cache.TransformFunc
	// Synced is called once the informers listed, again after a change
	// of where the resource is watched.
	Synced func()
	Logger *slog.Logger
}

// Run watches w with client until ctx ends: one informer for every
// namespace where grants say syncgate may list and watch the resource
// cluster-wide, else one per namespace. A question grants could not
// answer (the API server not answering yet) is asked again, paced by
// askBackoff, before the resource is watched per namespace. While it is
// watched per namespace, whatever the reason (no answer, a refusal, a
// cluster-wide watch refused later, its ClusterRole taken back), the
// question is asked again (reask): every few minutes while no answer
// comes (reaskBackoff), every GrantsFor after a refusal (refusedBackoff),
// and the watch goes to every namespace once grants say yes; granting
// the ClusterRole takes no restart. A new set of informers runs beside
// the one it replaces until it has listed, and Handler is told of the two
// as of one (record.go): nothing it was told is told again or lost, and
// what the new informers do not find is told deleted, then or when they
// list again. That compares resourceVersions as numbers, which holds for
// resources served from etcd; others degrade as doc.go says.
func Run(ctx context.Context, client dynamic.Interface, grants *Grants, w Watch) error {
	if w.Logger == nil {
		w.Logger = slog.New(slog.DiscardHandler)
	}
	s := &switcher{client: client, w: w, record: newRecord(w.Handler), managed: make(map[string]bool, len(w.Namespaces))}
	for _, ns := range w.Namespaces {
		s.managed[ns] = true
	}
	may, err := ask(ctx, grants, w)
	if ctx.Err() != nil {
		return nil
	}
	refused := err == nil // answered: where it is watched per namespace, a no
	if err != nil {
		w.Logger.Warn("cannot tell whether syncgate may watch in every namespace; watching each namespace while asking again", "resource", w.Resource.Resource, "err", err)
	}
	var cur *round // per namespace, while grants are asked again
	for {
		if may {
			next, err := s.switchTo(ctx, []string{metav1.NamespaceAll}, cur)
			if err == nil && next == nil {
				return nil
			}
			if err == nil {
				if cur != nil {
					w.Logger.Info("syncgate may watch in every namespace; watching every namespace", "resource", w.Resource.Resource)
				}
				cur, err = nil, s.hold(next)
			}
			if !errors.Is(err, errRefused) {
				return err
			}
			// Others sharing grants ask again rather than trust the yes;
			// this watch asks again after refusedBackoff, so that an
			// authorizer whose reviews and requests disagree costs a
			// refused list every GrantsFor, not a loop.
			grants.Forget(w.Resource)
			refused = true
			if cur != nil {
				w.Logger.Debug("watching in every namespace was refused; still watching each namespace", "resource", w.Resource.Resource, "err", err)
			} else {
				w.Logger.Warn("watching in every namespace was refused; watching each namespace while asking again", "resource", w.Resource.Resource, "in", refusedBackoff.Duration, "err", err)
			}
		}
		if cur == nil {
			if cur, err = s.switchTo(ctx, w.Namespaces, nil); cur == nil {
				return err
			}
		}
		if may = reask(ctx, grants, w, refused); !may {
			cur.stop()
			return nil
		}
	}
}

// askBackoff paces the question of grants asked again after an error;
// past its steps the resource is watched per namespace.
var askBackoff = wait.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.1, Steps: 6, Cap: 30 * time.Second}

// reaskBackoff paces the question asked again while the resource is
// watched per namespace because no answer came: from 30 s, doubling
// until GrantsFor, then every GrantsFor for as long as none comes.
var reaskBackoff = wait.Backoff{Duration: 30 * time.Second, Factor: 2, Jitter: 0.1, Steps: math.MaxInt32, Cap: GrantsFor}

// refusedBackoff paces the question asked again while the resource is
// watched per namespace because grants said no, or the watch in every
// namespace was refused: every GrantsFor, jittered up, so that the
// refusal grants kept (GrantsFor) has aged and the question is put to
// the API server again (two SelfSubjectAccessReviews).
var refusedBackoff = wait.Backoff{Duration: GrantsFor, Jitter: 0.1}

// ask asks grants about w's resource until answered, ctx ends or
// askBackoff's steps are spent.
func ask(ctx context.Context, grants *Grants, w Watch) (bool, error) {
	b := askBackoff
	for {
		may, err := grants.Ask(ctx, w.Resource)
		if err == nil || ctx.Err() != nil || b.Steps == 0 {
			return may, err
		}
		d := b.Step()
		w.Logger.Info("asking again whether syncgate may watch in every namespace", "resource", w.Resource.Resource, "in", d, "err", err)
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(d):
		}
	}
}

// reask asks grants about w's resource again, until they say yes (true)
// or ctx ends (false): paced by refusedBackoff after a refusal (refused
// says the last answer was one), by reaskBackoff while no answer comes.
func reask(ctx context.Context, grants *Grants, w Watch, refused bool) bool {
	unanswered, no := reaskBackoff, refusedBackoff
	for {
		var d time.Duration
		if refused {
			d = no.Step()
		} else {
			d = unanswered.Step()
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
		}
		may, err := grants.Ask(ctx, w.Resource)
		switch {
		case ctx.Err() != nil:
			return false
		case err == nil && may:
			return true
		case err == nil:
			refused = true
		default:
			refused = false
			w.Logger.Info("still cannot tell whether syncgate may watch in every namespace", "resource", w.Resource.Resource, "err", err)
		}
	}
}

// switcher runs the rounds of informers of one Watch, one after another.
type switcher struct {
	client  dynamic.Interface
	w       Watch
	record  *record
	managed map[string]bool
}

// switchTo starts a round of informers for where and, once it has listed,
// stops from (nil for none) and tells what the new round did not find
// deleted. A refusal of the new round before it listed leaves from
// running and returns it with the refusal; ctx ending stops both and
// returns nil, nil.
func (s *switcher) switchTo(ctx context.Context, where []string, from *round) (*round, error) {
	next, err := s.start(ctx, where)
	if err != nil {
		if from != nil {
			from.stop()
		}
		return nil, err
	}
	select {
	case <-next.synced:
	case <-next.ctx.Done():
		next.stop()
		if err := next.refused(); err != nil {
			if from != nil {
				s.record.settle(from.n)
			}
			return from, err
		}
		if from != nil {
			from.stop()
		}
		return nil, nil
	}
	if from != nil {
		from.stop()
	}
	s.record.sweep(next.n, next.listedAt)
	if s.w.Synced != nil {
		s.w.Synced()
	}
	return next, nil
}

// hold runs r until ctx ends, nil, or until its watch in every namespace
// is refused, the refusal.
func (s *switcher) hold(r *round) error {
	<-r.ctx.Done()
	err := r.refused()
	r.stop()
	return err
}

// pare keeps objects of other namespaces than managed as their name and
// resourceVersion, and runs transform on the others.
func pare(managed map[string]bool, transform cache.TransformFunc) cache.TransformFunc {
	return func(obj any) (any, error) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return obj, nil
		}
		if !managed[u.GetNamespace()] {
			bare := &unstructured.Unstructured{}
			bare.SetGroupVersionKind(u.GroupVersionKind())
			bare.SetNamespace(u.GetNamespace())
			bare.SetName(u.GetName())
			bare.SetResourceVersion(u.GetResourceVersion())
			return bare, nil
		}
		if transform == nil {
			return obj, nil
		}
		return transform(obj)
	}
}

func namespaceOf(obj any) string {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if m, ok := obj.(metav1.Object); ok {
		return m.GetNamespace()
	}
	return ""
}
