package readiness

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// pare is what an informer keeps of each object.
type pare int

const (
	// whole objects but their managedFields: the objects waited for, which
	// kstatus and health rules judge by any field.
	whole pare = iota
	// podTroubles keeps of a pod what podTrouble and currentPods read: its
	// identity, labels, controller and containers' waiting states.
	podTroubles
	// revisions keeps of a ReplicaSet its identity, controller and revision.
	revisions
)

// transform pares obj before its informer stores it. managedFields are
// often the larger part of an object; a pod's spec is most of the rest.
func (p pare) transform(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	switch p {
	case podTroubles:
		return pared(u, []string{"labels"}, map[string]any{
			"initContainerStatuses": waitingStates(u, "initContainerStatuses"),
			"containerStatuses":     waitingStates(u, "containerStatuses"),
		}), nil
	case revisions:
		out := pared(u, nil, nil)
		if rev, ok := u.GetAnnotations()[revisionAnnotation]; ok {
			out.SetAnnotations(map[string]string{revisionAnnotation: rev})
		}
		return out, nil
	}
	unstructured.RemoveNestedField(u.Object, "metadata", "managedFields")
	return u, nil
}

// pared is u's kind and identity, the metadata fields named, and status.
func pared(u *unstructured.Unstructured, fields []string, status map[string]any) *unstructured.Unstructured {
	md := map[string]any{}
	from, _ := u.Object["metadata"].(map[string]any)
	for _, f := range append(fields, "name", "namespace", "uid", "resourceVersion", "ownerReferences", "deletionTimestamp") {
		if v, ok := from[f]; ok {
			md[f] = v
		}
	}
	out := map[string]any{"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(), "metadata": md}
	if status != nil {
		out["status"] = status
	}
	return &unstructured.Unstructured{Object: out}
}

// waitingStates keeps each container's name and waiting state.
func waitingStates(u *unstructured.Unstructured, field string) []any {
	list, _, _ := unstructured.NestedSlice(u.Object, "status", field)
	out := make([]any, 0, len(list))
	for _, c := range list {
		m, _ := c.(map[string]any)
		kept := map[string]any{"name": m["name"]}
		if w, ok, _ := unstructured.NestedMap(m, "state", "waiting"); ok {
			kept["state"] = map[string]any{"waiting": w}
		}
		out = append(out, kept)
	}
	return out
}
