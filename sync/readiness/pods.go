package readiness

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// failingReasons are container waiting reasons a rollout does not recover
// from by waiting.
var failingReasons = map[string]bool{
	"CrashLoopBackOff": true, "ImagePullBackOff": true, "ErrImagePull": true, "InvalidImageName": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
}

const (
	revisionAnnotation = "deployment.kubernetes.io/revision"
	// DaemonSet pods carry the template generation they were made from.
	dsGenerationAnnotation = "deprecated.daemonset.template.generation"
	dsGenerationLabel      = "pod-template-generation"
	revisionHashLabel      = "controller-revision-hash"
)

// byControllerIndex indexes every informer of a Wait by the UID of each
// object's controller (none for an object without one): a workload's
// ReplicaSets and pods are read from it as events keep it, not gathered
// from the namespace's every pod at each evaluation.
const byControllerIndex = "controller"

func indexByController(obj any) ([]string, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, nil
	}
	if uid, ok := controllerOf(u); ok {
		return []string{string(uid)}, nil
	}
	return nil, nil
}

// indexers are those of every informer of a Wait.
var indexers = cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc, byControllerIndex: indexByController}

// ownedBy are the objects e holds that uid controls; none when e is nil
// (the namespace holds no workload).
func (e *entry) ownedBy(uid types.UID) []*unstructured.Unstructured {
	if e == nil {
		return nil
	}
	objs, err := e.indexer.ByIndex(byControllerIndex, string(uid))
	if err != nil {
		// Only an informer made without indexers has no such index: the
		// pod checks would be off without a sign.
		panic("readiness: " + err.Error())
	}
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, obj := range objs {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			out = append(out, u)
		}
	}
	return out
}

// podsOf are the pods whose containers judge the object: a Pod itself,
// a workload's pods of its current revision (currentPods), none for other
// kinds.
func (s *snapshot) podsOf(r Object, u *unstructured.Unstructured) []*unstructured.Unstructured {
	switch {
	case r.GroupKind.Group == "" && r.GroupKind.Kind == "Pod":
		return []*unstructured.Unstructured{u}
	case isWorkload(r):
		return s.currentPods(r, u)
	}
	return nil
}

// podTrouble names a failing container among pods (podsOf an object): for
// a Deployment, the pods of its newest ReplicaSet, so that pods of a broken
// revision still crashing do not fail the commit that fixes it.
func podTrouble(pods []*unstructured.Unstructured) string {
	var reasons []string
	for _, pu := range pods {
		if pu.GetDeletionTimestamp() != nil {
			continue
		}
		var pod corev1.Pod
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(pu.Object, &pod); err != nil {
			continue
		}
		statuses := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
		for _, cs := range statuses {
			if w := cs.State.Waiting; w != nil && failingReasons[w.Reason] {
				msg := w.Reason
				if w.Message != "" {
					msg += " (" + w.Message + ")"
				}
				reasons = append(reasons, fmt.Sprintf("pod %s container %s: %s", pod.Name, cs.Name, msg))
			}
		}
	}
	if len(reasons) == 0 {
		return ""
	}
	sort.Strings(reasons)
	if len(reasons) > 1 {
		return fmt.Sprintf("%s (and %d more)", reasons[0], len(reasons)-1)
	}
	return reasons[0]
}

// currentPods are the workload's pods of its current revision.
func (s *snapshot) currentPods(r Object, u *unstructured.Unstructured) []*unstructured.Unstructured {
	pods, sets := s.ws.pods[u.GetNamespace()], s.ws.replicaSets[u.GetNamespace()]
	switch r.GroupKind.Kind {
	case "Deployment":
		rev := u.GetAnnotations()[revisionAnnotation]
		if rev == "" {
			return nil
		}
		var out []*unstructured.Unstructured
		for _, rs := range sets.ownedBy(u.GetUID()) {
			if rs.GetAnnotations()[revisionAnnotation] == rev {
				out = append(out, pods.ownedBy(rs.GetUID())...)
			}
		}
		return out
	case "StatefulSet":
		update, _, _ := unstructured.NestedString(u.Object, "status", "updateRevision")
		return filter(pods.ownedBy(u.GetUID()), func(p *unstructured.Unstructured) bool {
			return update == "" || p.GetLabels()[revisionHashLabel] == update
		})
	case "DaemonSet":
		gen := u.GetAnnotations()[dsGenerationAnnotation]
		return filter(pods.ownedBy(u.GetUID()), func(p *unstructured.Unstructured) bool {
			pg, ok := p.GetLabels()[dsGenerationLabel]
			return gen == "" || !ok || pg == gen
		})
	}
	return pods.ownedBy(u.GetUID()) // a Job's template does not change
}

func filter(in []*unstructured.Unstructured, keep func(*unstructured.Unstructured) bool) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, u := range in {
		if keep(u) {
			out = append(out, u)
		}
	}
	return out
}

func controllerOf(u *unstructured.Unstructured) (types.UID, bool) {
	for _, ref := range u.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller {
			return ref.UID, true
		}
	}
	return "", false
}
