package apply

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The order of a write, in one place. Objects are sent as soon as what
// they use exists, not kind by kind:
//
//   - A workload (a kind whose controller starts pods from a template:
//     isWorkload) is applied once every object of the same write that its
//     pod template uses has been applied: the ConfigMaps, Secrets,
//     ServiceAccount and PersistentVolumeClaims it names (volumes, projected
//     sources, envFrom, env valueFrom, imagePullSecrets, serviceAccountName),
//     so its pods never start against what is not there yet.
//   - Services count as used by every workload of their namespace whose
//     pod template leaves enableServiceLinks on (the default): kubelet gives
//     a container the environment variables of the Services that exist when
//     it starts, which is why Helm and kubectl order Services first. A
//     workload with enableServiceLinks: false does not wait for Services.
//   - Everything else uses nothing here. What some workload uses goes at
//     once; what none uses goes once every workload is released, so that
//     it does not slow what workloads wait for (schedule). A workload that
//     uses nothing of the write goes at once.
//
// A name the write does not hold (unchanged, or not in the commit) is not
// waited for: it exists already or never will, and waiting could not end.
// A workload waits only for objects that are not workloads, and those wait
// for nothing, so no cycle can form. What comes before all of this (CRDs
// and Namespaces, in a write of their own) and after it (prune) is Apply's.

// writeIndex is what uses looks objects up in, built once per write:
// every object by id, and the Services of each namespace.
type writeIndex struct {
	byID     map[string]*desired
	services map[string][]string // namespace → ids of its Services, in write order
}

func indexOf(ds []*desired) *writeIndex {
	ix := &writeIndex{byID: make(map[string]*desired, len(ds)), services: map[string][]string{}}
	for _, d := range ds {
		id := d.ref.id()
		ix.byID[id] = d
		if allocates(d.ref) {
			ix.services[d.ref.Namespace] = append(ix.services[d.ref.Namespace], id)
		}
	}
	return ix
}

// uses lists the ids of the objects of the write that d must follow, and
// whether it follows the Services of its namespace too (ix.services).
func uses(d *desired, ix *writeIndex) (ids []string, services bool) {
	if !isWorkload(d.ref) {
		return nil, false
	}
	spec, ok := podSpec(d.obj)
	if !ok {
		return nil, false
	}
	for _, r := range podReferences(spec) {
		id := ObjectRef{Kind: r.kind, Namespace: d.ref.Namespace, Name: r.name}.id()
		if r.name != "" && ix.byID[id] != nil && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	links, found, _ := unstructured.NestedBool(spec, "enableServiceLinks")
	return ids, (links || !found) && len(ix.services[d.ref.Namespace]) > 0
}

// podSpec is the pod spec of a workload's template.
func podSpec(u *unstructured.Unstructured) (map[string]any, bool) {
	path := []string{"spec", "template", "spec"}
	switch u.GetKind() {
	case "Pod":
		path = []string{"spec"}
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	spec, found, err := unstructured.NestedMap(u.Object, path...)
	return spec, found && err == nil
}

type reference struct{ kind, name string }

// podReferences are the objects of the pod's namespace a pod spec names.
func podReferences(spec map[string]any) []reference {
	var out []reference
	add := func(kind string, m map[string]any, field string) {
		if name, _, _ := unstructured.NestedString(m, field); name != "" {
			out = append(out, reference{kind, name})
		}
	}
	sa, _, _ := unstructured.NestedString(spec, "serviceAccountName")
	if sa == "" {
		sa, _, _ = unstructured.NestedString(spec, "serviceAccount")
	}
	if sa == "" {
		sa = "default"
	}
	out = append(out, reference{"ServiceAccount", sa})
	for _, s := range objectsAt(spec, "imagePullSecrets") {
		add("Secret", s, "name")
	}
	for _, v := range objectsAt(spec, "volumes") {
		add("ConfigMap", child(v, "configMap"), "name")
		add("Secret", child(v, "secret"), "secretName")
		add("PersistentVolumeClaim", child(v, "persistentVolumeClaim"), "claimName")
		for _, p := range objectsAt(child(v, "projected"), "sources") {
			add("ConfigMap", child(p, "configMap"), "name")
			add("Secret", child(p, "secret"), "name")
		}
	}
	for _, field := range []string{"initContainers", "containers", "ephemeralContainers"} {
		for _, c := range objectsAt(spec, field) {
			for _, f := range objectsAt(c, "envFrom") {
				add("ConfigMap", child(f, "configMapRef"), "name")
				add("Secret", child(f, "secretRef"), "name")
			}
			for _, e := range objectsAt(c, "env") {
				add("ConfigMap", child(child(e, "valueFrom"), "configMapKeyRef"), "name")
				add("Secret", child(child(e, "valueFrom"), "secretKeyRef"), "name")
			}
		}
	}
	return out
}

// objectsAt are the objects of the list at field of m.
func objectsAt(m map[string]any, field string) []map[string]any {
	list, _ := m[field].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		if o, ok := x.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

// child is the object at field of m, nil when there is none.
func child(m map[string]any, field string) map[string]any {
	o, _ := m[field].(map[string]any)
	return o
}

// isWorkload: objects whose controllers start pods, or pods.
func isWorkload(r ObjectRef) bool {
	switch r.Group + "/" + r.Kind {
	case "apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "apps/ReplicaSet",
		"batch/Job", "batch/CronJob", "/Pod", "/ReplicationController":
		return true
	}
	return false
}
