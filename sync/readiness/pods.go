package readiness

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
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

// owned indexes a namespace's pods and ReplicaSets by controller.
type owned struct {
	pods, replicaSets map[types.UID][]*unstructured.Unstructured
}

func (s *snapshot) owned(ns string) *owned {
	if o, ok := s.pods[ns]; ok {
		return o
	}
	o := &owned{pods: byController(s.ws.pods[ns], ns), replicaSets: byController(s.ws.replicaSets[ns], ns)}
	s.pods[ns] = o
	return o
}

func byController(e *entry, ns string) map[types.UID][]*unstructured.Unstructured {
	out := map[types.UID][]*unstructured.Unstructured{}
	if e == nil {
		return out
	}
	objs, err := e.lister.ByNamespace(ns).List(labels.Everything())
	if err != nil {
		return out
	}
	for _, obj := range objs {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		if uid, ok := controllerOf(u); ok {
			out[uid] = append(out[uid], u)
		}
	}
	return out
}

// podTrouble names a failing container among the pods of the object's
// current revision: for a Deployment, the pods of its newest ReplicaSet, so
// that pods of a broken revision still crashing do not fail the commit that
// fixes it.
func (s *snapshot) podTrouble(r Object, u *unstructured.Unstructured) string {
	var pods []*unstructured.Unstructured
	switch {
	case r.GroupKind.Group == "" && r.GroupKind.Kind == "Pod":
		pods = []*unstructured.Unstructured{u}
	case isWorkload(r):
		pods = s.currentPods(r, u)
	default:
		return ""
	}
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
	o := s.owned(u.GetNamespace())
	switch r.GroupKind.Kind {
	case "Deployment":
		rev := u.GetAnnotations()[revisionAnnotation]
		if rev == "" {
			return nil
		}
		var out []*unstructured.Unstructured
		for _, rs := range o.replicaSets[u.GetUID()] {
			if rs.GetAnnotations()[revisionAnnotation] == rev {
				out = append(out, o.pods[rs.GetUID()]...)
			}
		}
		return out
	case "StatefulSet":
		update, _, _ := unstructured.NestedString(u.Object, "status", "updateRevision")
		return filter(o.pods[u.GetUID()], func(p *unstructured.Unstructured) bool {
			return update == "" || p.GetLabels()[revisionHashLabel] == update
		})
	case "DaemonSet":
		gen := u.GetAnnotations()[dsGenerationAnnotation]
		return filter(o.pods[u.GetUID()], func(p *unstructured.Unstructured) bool {
			pg, ok := p.GetLabels()[dsGenerationLabel]
			return gen == "" || !ok || pg == gen
		})
	}
	return o.pods[u.GetUID()] // a Job's template does not change
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
