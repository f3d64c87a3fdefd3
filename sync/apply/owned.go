package apply

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
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
	lists, err := a.clients.disc.ServerPreferredNamespacedResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, fmt.Errorf("list kinds: %w", err)
	}
	selector := labels.SelectorFromSet(labels.Set{ManagedByLabel: ManagedByValue, OwnerLabel: namespace}).String()
	var out []Entry
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "delete") || strings.Contains(r.Name, "/") {
				continue
			}
			items, err := via.meta.Resource(gv.WithResource(r.Name)).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
			if apierrors.IsForbidden(err) {
				continue // left out of the rebuilt inventory: never pruned
			}
			if err != nil {
				return nil, fmt.Errorf("list %s in %s: %w", r.Name, namespace, err)
			}
			for _, u := range items.Items {
				if !appliedBy(&u, a.opts.FieldManager) {
					continue // labelled by a controller copying them
				}
				out = append(out, Entry{ObjectRef: ObjectRef{Group: gv.Group, Version: gv.Version, Kind: r.Kind, Namespace: namespace, Name: u.GetName()}})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id() < out[j].id() })
	return out, nil
}
