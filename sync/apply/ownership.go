package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// What syncgate may delete is decided here, from the live objects and the
// options, never from the inventory alone: the inventory lives in the
// Version's status, and whoever can write that could otherwise name any
// object syncgate can reach.

// adoptions finds, among the objects about to be written for namespace,
// those that exist without being namespace's: syncgate is about to take
// them over, not create them. It makes one metadata LIST (of the objects
// not marked as namespace's) per kind and namespace where several objects
// are written, else one GET each. Applies for no namespace (manifests
// installed by tools) adopt nothing.
func (a *Applier) adoptions(ctx context.Context, namespace string, ds []*desired) (map[string]bool, error) {
	if namespace == "" {
		return nil, nil
	}
	out := map[string]bool{}
	var mu sync.Mutex
	note := func(d *desired, live metav1.Object) {
		if adoptable(live, namespace, a.opts.FieldManager) {
			mu.Lock()
			out[d.ref.id()] = true
			mu.Unlock()
		}
	}
	notOurs := OwnerLabel + "!=" + namespace
	err := readLive(ctx, a, ds, "look for existing",
		func(ctx context.Context, d *desired) (map[string]*metav1.PartialObjectMetadata, error) {
			l, err := a.metadata(d).List(ctx, metav1.ListOptions{LabelSelector: notOurs})
			if err != nil {
				return nil, err
			}
			byName := make(map[string]*metav1.PartialObjectMetadata, len(l.Items))
			for i := range l.Items {
				byName[l.Items[i].Name] = &l.Items[i]
			}
			return byName, nil
		},
		func(ctx context.Context, d *desired) (*metav1.PartialObjectMetadata, error) {
			return a.metadata(d).Get(ctx, d.ref.Name, metav1.GetOptions{})
		},
		func(d *desired, live *metav1.PartialObjectMetadata) { note(d, live) })
	return out, err
}

// adoptable: the live object is not namespace's and not yet marked adopted.
// An object with the managed-by label and no owner that syncgate's field
// manager applied was applied by a syncgate from before owners were
// marked: it is syncgate's (and gets its owner on this apply).
func adoptable(live metav1.Object, namespace, manager string) bool {
	labels := live.GetLabels()
	switch {
	case labels[OwnerLabel] == namespace:
		return false
	case live.GetAnnotations()[AdoptedAnnotation] != "":
		return false
	case labels[ManagedByLabel] == ManagedByValue && labels[OwnerLabel] == "" && appliedBy(live, manager):
		return false
	}
	return true
}

// appliedBy: manager applied (server-side) some of the object's fields.
// Labels alone do not say so: controllers copy them (a Service's labels
// are on its Endpoints and EndpointSlices).
func appliedBy(live metav1.Object, manager string) bool {
	for _, f := range live.GetManagedFields() {
		if f.Manager == manager && f.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

var adoptedPatch, _ = json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{AdoptedAnnotation: "true"}}})

// markAdopted records, before syncgate takes d over, that it existed
// already. A field manager of its own writes the mark, so syncgate's later
// applies, which never send it, keep it. It reports false when the object
// is gone meanwhile: syncgate then creates it.
func (a *Applier) markAdopted(ctx context.Context, namespace string, d *desired) (bool, error) {
	_, err := a.metadata(d).Patch(ctx, d.ref.Name, types.MergePatchType, adoptedPatch, metav1.PatchOptions{FieldManager: a.opts.FieldManager + "-adoption"})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark as adopted: %w", err)
	}
	a.log.Info("adopted an object syncgate did not create; it will never be pruned", "namespace", namespace, "object", d.ref.String())
	return true, nil
}

// outside says why namespace's commits may not own an object of ref's
// scope and place, or "" when they may: objects of namespace and of
// Options.AllowNamespaces, cluster-scoped ones when Options.AllowClusterScoped.
func (a *Applier) outside(namespace string, ref ObjectRef, namespaced bool) string {
	switch {
	case !namespaced && ref.Namespace != "":
		return "cluster-scoped, recorded in a namespace"
	case !namespaced && !a.opts.AllowClusterScoped:
		return "cluster-scoped objects are not allowed"
	case namespaced && ref.Namespace != namespace && !a.allowed[ref.Namespace]:
		return "not in namespace " + namespace
	}
	return ""
}

// disowned says why the live object is not namespace's to delete, or ""
// when it is: it carries syncgate's label, namespace's owner label and no
// adoption mark.
func disowned(live metav1.Object, namespace string) string {
	labels := live.GetLabels()
	switch {
	case labels[ManagedByLabel] != ManagedByValue:
		return "not managed by syncgate"
	case namespace == "":
		return "no namespace to prune for"
	case labels[OwnerLabel] != namespace:
		return "not applied for namespace " + namespace
	case live.GetAnnotations()[AdoptedAnnotation] != "":
		return "adopted: it existed before syncgate applied it"
	}
	return ""
}

// resourceGroup is one resource in one namespace.
type resourceGroup struct {
	gvr       schema.GroupVersionResource
	namespace string
}

func groupOf(d *desired) resourceGroup { return resourceGroup{d.gvr, d.ref.Namespace} }

// byResource splits ds into the groups of several namespaced objects of one
// resource and namespace, which one LIST reads, and the objects best read
// with one GET each.
func byResource(ds []*desired) (map[resourceGroup][]*desired, []*desired) {
	all := map[resourceGroup][]*desired{}
	var singles []*desired
	for _, d := range ds {
		if !d.namespaced {
			singles = append(singles, d)
			continue
		}
		all[groupOf(d)] = append(all[groupOf(d)], d)
	}
	groups := map[resourceGroup][]*desired{}
	for k, members := range all {
		if len(members) == 1 {
			singles = append(singles, members[0])
		} else {
			groups[k] = members
		}
	}
	return groups, singles
}

// readLive reads the live objects of ds: one LIST per resource and
// namespace where several are wanted (list gives them by name), else one
// GET each. found is called, concurrently, with each object that exists;
// a missing one is passed over. what prefixes the errors.
func readLive[T any](ctx context.Context, a *Applier, ds []*desired, what string,
	list func(context.Context, *desired) (map[string]T, error),
	get func(context.Context, *desired) (T, error),
	found func(*desired, T)) error {
	groups, singles := byResource(ds)
	heads := make([]*desired, 0, len(groups))
	for _, g := range groups {
		heads = append(heads, g[0])
	}
	return a.each(ctx, [][]*desired{heads, singles}, []int{a.opts.Concurrency, a.opts.Concurrency}, func(ctx context.Context, d *desired) error {
		if members, ok := groups[groupOf(d)]; ok && d == members[0] {
			byName, err := list(ctx, d)
			if err != nil {
				return fmt.Errorf("%s %s in %s: %w", what, d.gvr.Resource, d.ref.Namespace, err)
			}
			for _, m := range members {
				if live, ok := byName[m.ref.Name]; ok {
					found(m, live)
				}
			}
			return nil
		}
		live, err := get(ctx, d)
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return fmt.Errorf("%s %s: %w", what, d.ref, err)
		}
		found(d, live)
		return nil
	})
}
