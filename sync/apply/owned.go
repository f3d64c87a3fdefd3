package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/syncgate/syncgate/sync/kinds"
)

// Owned lists the objects of namespace that syncgate applied for it (its
// managed-by and owner labels, and fields syncgate's field manager
// applied), one LIST per namespaced kind the server serves and the
// namespace's identity may list; a kind whose version stopped being
// served since discovery was read is listed at the version served now
// (listServed), the waits for discovery to follow bounded by
// servedAgainWithin for the whole call. It rebuilds an inventory that was lost (a deleted
// Version): the entries have no hash, so the next Apply sends each
// object, and prunes those the commit lacks.
func (a *Applier) Owned(ctx context.Context, namespace string) ([]Entry, error) {
	via, err := a.clients.of(namespace)
	if err != nil {
		return nil, fmt.Errorf("owned: %w", err)
	}
	// A group an aggregated API serves that could not be discovered is
	// left out: its objects are not in the inventory, so never pruned.
	resources, err := a.clients.mapper.Preferred()
	if err != nil && !kinds.IsStale(err) {
		return nil, fmt.Errorf("list kinds: %w", err)
	}
	selector := labels.SelectorFromSet(labels.Set{ManagedByLabel: ManagedByValue, OwnerLabel: namespace}).String()
	deadline := time.Now().Add(servedAgainWithin)
	var out []Entry
	for _, r := range resources {
		if !r.Namespaced || !slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "delete") {
			continue
		}
		served, items, err := a.listServed(ctx, via, namespace, selector, r, deadline)
		if apierrors.IsForbidden(err) {
			continue // left out of the rebuilt inventory: never pruned
		}
		if err != nil {
			return nil, fmt.Errorf("list %s in %s: %w", served.Resource, namespace, err)
		}
		if items == nil {
			continue // its CRD was deleted since discovery: nothing left
		}
		for _, u := range items.Items {
			if !appliedBy(&u, a.opts.FieldManager) {
				continue // labelled by a controller copying them
			}
			out = append(out, Entry{ObjectRef: ObjectRef{Group: served.Group, Version: served.Version, Kind: served.Kind, Namespace: namespace, Name: u.GetName()}})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id() < out[j].id() })
	return out, nil
}

// servedAgainWithin bounds how long one Owned call waits, all its kinds
// together, for discovery to agree with LISTs answered 404.
var servedAgainWithin = 30 * time.Second

// listServed lists r's objects in namespace, at the version the API server
// serves now. A LIST answered 404 says that r's version is no longer
// served: its CRD was deleted, or serves another version now (v1beta1
// moved to v1), whose objects are still there. Discovery loaded again
// tells which: r served in no version has nothing to list (nil items);
// served at another version, it is listed there. Discovery follows a CRD
// a moment after its handlers, so while it still serves r where the LIST
// found nothing it is asked again, until deadline. Discovery that could
// not read r's group (an aggregated API's, stale) cannot tell: that is an
// error, not a kind deleted.
func (a *Applier) listServed(ctx context.Context, via *identity, namespace, selector string, r kinds.Resource, deadline time.Time) (kinds.Resource, *metav1.PartialObjectMetadataList, error) {
	delay := 50 * time.Millisecond
	for {
		items, err := via.meta.Resource(r.GroupVersionResource).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if !apierrors.IsNotFound(err) {
			return r, items, err
		}
		resources, lerr := a.clients.mapper.Preferred()
		if lerr != nil && !kinds.IsStale(lerr) {
			return r, nil, fmt.Errorf("list kinds: %w", lerr)
		}
		i := slices.IndexFunc(resources, func(s kinds.Resource) bool { return s.GroupResource() == r.GroupResource() })
		switch {
		case i < 0 && staleGroup(lerr, r.Group):
			return r, nil, fmt.Errorf("%w (discovery of its group failed: %w)", err, lerr)
		case i < 0:
			return r, nil, nil
		case resources[i].Version != r.Version:
			r = resources[i]
			continue
		case time.Now().After(deadline):
			return r, nil, fmt.Errorf("%w (discovery still serves %s)", err, r.GroupVersion())
		}
		select {
		case <-ctx.Done():
			return r, nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// staleGroup reports whether err says that discovery could not read a
// version of group.
func staleGroup(err error, group string) bool {
	var s *kinds.StaleError
	return errors.As(err, &s) && slices.ContainsFunc(s.GroupVersions, func(gv schema.GroupVersion) bool { return gv.Group == group })
}
