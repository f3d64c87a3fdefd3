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

// prune deletes the objects of prev that now lacks, when the live object
// still carries syncgate's label: an object someone else took over (and
// relabelled) is left alone. Namespaces and CRDs go last, since deleting
// them deletes what they hold. It returns what it deleted and the entries it
// failed to delete, to be kept in the inventory and tried again.
func (a *Applier) prune(ctx context.Context, prev, now []Entry) ([]ObjectRef, []Entry, error) {
	keep := make(map[string]bool, len(now))
	for _, e := range now {
		keep[e.id()] = true
	}
	var contents, containers []*desired
	lookup := a.lookup()
	for _, e := range prev {
		if keep[e.id()] {
			continue
		}
		m, err := lookup(e.GroupVersionKind())
		if meta.IsNoMatchError(err) {
			continue // the kind is gone, and its objects with it
		}
		if err != nil {
			return nil, prevOf(prev, keep), fmt.Errorf("prune %s: %w", e.ObjectRef, err)
		}
		d := &desired{ref: e.ObjectRef, hash: e.Hash, gvr: m.Resource, namespaced: m.Scope.Name() == meta.RESTScopeNameNamespace}
		if isFoundation(e.ObjectRef) {
			containers = append(containers, d)
		} else {
			contents = append(contents, d)
		}
	}
	var mu sync.Mutex
	var pruned []ObjectRef
	var failed []Entry
	var errs []error
	for _, batch := range [][]*desired{contents, containers} {
		_ = a.each(ctx, [][]*desired{batch}, []int{a.opts.Concurrency}, func(ctx context.Context, d *desired) error {
			deleted, err := a.pruneOne(ctx, d)
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
	if err := ctx.Err(); err != nil {
		return pruned, prevOf(prev, keep), err
	}
	return pruned, failed, errors.Join(errs...)
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

func (a *Applier) pruneOne(ctx context.Context, d *desired) (bool, error) {
	r := a.resource(d)
	live, err := r.Get(ctx, d.ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if live.GetLabels()[ManagedByLabel] != ManagedByValue {
		a.log.Info("not pruning an object syncgate does not manage", "object", d.ref.String())
		return false, nil
	}
	uid := live.GetUID()
	policy := metav1.DeletePropagationBackground
	err = r.Delete(ctx, d.ref.Name, metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid}})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}
