package apply

import (
	"context"
	"fmt"
	"slices"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/syncgate/syncgate/sync/kinds"
)

// Owned lists the objects of namespace that syncgate applied for it (its
// managed-by and owner labels, and fields syncgate's field manager
// applied), one LIST per namespaced kind the server serves and the
// namespace's identity may list. It rebuilds an inventory
// that was lost (a deleted Version): the entries have no hash, so the next
// Apply sends each object, and prunes those the commit lacks.
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
		items, err := via.meta.Resource(r.GroupVersionResource).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if apierrors.IsForbidden(err) {
			continue // left out of the rebuilt inventory: never pruned
		}
		if apierrors.IsNotFound(err) {
			continue // its CRD was deleted since discovery: nothing left
		}
		if err != nil {
			return nil, fmt.Errorf("list %s in %s: %w", r.Resource, namespace, err)
		}
		for _, u := range items.Items {
			if !appliedBy(&u, a.opts.FieldManager) {
				continue // labelled by a controller copying them
			}
			out = append(out, Entry{ObjectRef: ObjectRef{Group: r.Group, Version: r.Version, Kind: r.Kind, Namespace: namespace, Name: u.GetName()}})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id() < out[j].id() })
	return out, nil
}
