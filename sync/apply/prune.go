package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// prune deletes the objects of prev that now lacks and that namespace owns:
// the entry names an object namespace's commits may own (outside), and the
// live object still says it is namespace's and was not adopted (disowned).
// Anything else is left in place and reported as kept: prev comes from the
// Version's status, which is not evidence of what syncgate created.
// Namespaces and CRDs go last, since deleting them deletes what they hold.
// It returns what it deleted, what it kept, and the entries it failed to
// delete, to be kept in the inventory and tried again.
func (a *Applier) prune(ctx context.Context, namespace string, via *identity, prev, now []Entry) ([]ObjectRef, []KeptObject, []Entry, error) {
	keep := ids(now)
	var mu sync.Mutex
	var kept []KeptObject
	spare := func(ref ObjectRef, reason string) {
		a.log.Info("not pruning an object the commit dropped", "namespace", namespace, "object", ref.String(), "reason", reason)
		mu.Lock()
		kept = append(kept, KeptObject{Object: ref, Reason: reason})
		mu.Unlock()
	}
	candidates, outside, err := a.dropped(namespace, via, prev, keep)
	if err != nil {
		return nil, nil, prevOf(prev, keep), fmt.Errorf("prune %w", err)
	}
	for _, k := range outside {
		spare(k.Object, k.Reason)
	}
	var contents, containers []*desired
	for _, d := range candidates {
		if isFoundation(d.ref) {
			containers = append(containers, d)
		} else {
			contents = append(contents, d)
		}
	}
	var pruned []ObjectRef
	var failed []Entry
	var errs []error
	for _, batch := range [][]*desired{contents, containers} {
		_ = a.each(ctx, [][]*desired{batch}, []int{a.opts.Concurrency}, func(ctx context.Context, d *desired) error {
			deleted, why, err := a.pruneOne(ctx, namespace, d)
			if why != "" {
				spare(d.ref, why)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("prune %s: %w", d.ref, err))
				failed = append(failed, d.entry())
			case deleted:
				pruned = append(pruned, d.ref)
			}
			return nil
		})
	}
	sortKept(kept)
	if err := ctx.Err(); err != nil {
		return pruned, kept, prevOf(prev, keep), err
	}
	return pruned, kept, failed, errors.Join(errs...)
}

// prevOf lists the entries of prev not kept: all of them are still owed a
// prune when pruning stopped early.
func prevOf(prev []Entry, keep map[string]bool) []Entry {
	var out []Entry
	for _, e := range prev {
		if !keep[e.id()] {
			out = append(out, e)
		}
	}
	return out
}

// pruneOne deletes d if the live object is namespace's, or says why not.
// The delete is conditional on the UID read, so an object replaced
// meanwhile is not deleted unread. A delete the namespace's identity may
// not make is an error: the object is the namespace's, and stays owed.
func (a *Applier) pruneOne(ctx context.Context, namespace string, d *desired) (bool, string, error) {
	r := a.metadata(d)
	live, err := r.Get(ctx, d.ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return false, "", nil
	case apierrors.IsForbidden(err):
		// What the namespace's identity may not even read, it did not
		// apply either: the entry is not the namespace's.
		return false, "not readable as namespace " + namespace, nil
	case err != nil:
		return false, "", err
	}
	if why := disowned(live, namespace); why != "" {
		return false, why, nil
	}
	uid := live.GetUID()
	policy := metav1.DeletePropagationBackground
	err = r.Delete(ctx, d.ref.Name, metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid}})
	if apierrors.IsNotFound(err) {
		return false, "", nil
	}
	return err == nil, "", err
}

// dropped sorts the entries of prev that keep lacks into the ones to
// prune, each with its resource, and the ones namespace's commits may not
// own (outside), kept with the reason. Entries of kinds the API server no
// longer serves are left out: their objects are gone with the kind.
func (a *Applier) dropped(namespace string, via *identity, prev []Entry, keep map[string]bool) ([]*desired, []KeptObject, error) {
	var candidates []*desired
	var kept []KeptObject
	lookup := a.lookup()
	for _, e := range prev {
		if keep[e.id()] {
			continue
		}
		m, err := lookup(e.GroupVersionKind())
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", e.ObjectRef, err)
		}
		d := &desired{ref: e.ObjectRef, hash: e.Hash, gvr: m.Resource, namespaced: isNamespaced(m), via: via}
		if why := a.outside(namespace, e.ObjectRef, d.namespaced); why != "" {
			kept = append(kept, KeptObject{Object: e.ObjectRef, Reason: why})
			continue
		}
		candidates = append(candidates, d)
	}
	return candidates, kept, nil
}
