package apply

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/syncgate/syncgate/sync/kinds"
)

// Owned lists the objects of namespace that syncgate applied for it (its
// managed-by and owner labels, and fields syncgate's field manager
// applied), one LIST per namespaced kind the server serves and the
// namespace's identity may list; a kind whose version stopped being
// served since discovery was read is listed at the version served now
// (listServed). It rebuilds an inventory that was lost (a deleted
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
	var out []Entry
	for _, r := range resources {
		if !r.Namespaced || !slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "delete") {
			continue
		}
		served, items, err := a.listServed(ctx, via, namespace, selector, r)
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

// servedAgainWithin bounds how long listServed waits for discovery to
// agree with a LIST answered 404.
const servedAgainWithin = 30 * time.Second

// listServed lists r's objects in namespace, at the version the API server
// serves now. A LIST answered 404 says that r's version is no longer
// served: its CRD was deleted, or serves another version now (v1beta1
// moved to v1), whose objects are still there. Discovery loaded again
// tells which: r served in no version has nothing to list (nil items);
// served at another version, it is listed there. Discovery follows a CRD
// a moment after its handlers, so while it still serves r where the LIST
// found nothing it is asked again, for at most servedAgainWithin.
func (a *Applier) listServed(ctx context.Context, via *identity, namespace, selector string, r kinds.Resource) (kinds.Resource, *metav1.PartialObjectMetadataList, error) {
	deadline := time.Now().Add(servedAgainWithin)
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
