package readiness

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// snapshot evaluates objects from the informer caches.
type snapshot struct {
	ws  *watchSet
	now time.Time
	// recheck is the earliest time a verdict evaluate gave moves with the
	// clock alone (judge), or zero.
	recheck time.Time
}

// get is r as its informer holds it, or as the Wait's first list found it
// when that is newer (the informer has not caught up with the apply yet)
// and r was not deleted since. Once the informer caught up, the list's
// state is forgotten: the informer's only moves on.
func (s *snapshot) get(r Object) *unstructured.Unstructured {
	cached := s.cached(r)
	seed := s.ws.seeds[r]
	if seed != nil && cached != nil && !newer(seed, cached) {
		delete(s.ws.seeds, r)
		return cached
	}
	if seed == nil || s.ws.w.isGone(r) {
		return cached
	}
	return seed
}

func (s *snapshot) cached(r Object) *unstructured.Unstructured {
	at, ok := s.ws.where[r]
	if !ok {
		return nil
	}
	var obj any
	var err error
	if at.namespace == "" {
		obj, err = at.entry.lister.Get(r.Name)
	} else {
		obj, err = at.entry.lister.ByNamespace(at.namespace).Get(r.Name)
	}
	if err != nil {
		return nil
	}
	u, _ := obj.(*unstructured.Unstructured)
	return u
}

func (s *snapshot) evaluate(refs []Object) (Progress, error) {
	p := Progress{Total: len(refs)}
	for _, r := range refs {
		u := s.get(r)
		if u == nil {
			p.Pending = append(p.Pending, pending(r, "not found"))
			continue
		}
		v, err := s.judge(r, u)
		if err != nil {
			return p, err
		}
		if v.workload != nil {
			p.Workloads = append(p.Workloads, *v.workload)
		}
		if v.current {
			p.Ready++
		} else {
			p.Pending = append(p.Pending, v.pending)
		}
	}
	return p, nil
}

// outcome is what one state of an object (and of its current pods) says
// of its rollout.
type outcome struct {
	current  bool
	pending  string    // not current: what it waits for (pending)
	workload *Workload // a workload not current: its replica counts
	until    time.Time // when the clock alone moves this verdict (movesAt); zero: never
}

// judgeAnew judges u by its kind's health rule (ruled), or else by
// kstatus, its controller's observed generation and its current pods
// (readPods: whether it read them, pods those it read).
func (s *snapshot) judgeAnew(r Object, u *unstructured.Unstructured) (v outcome, readPods bool, pods []*unstructured.Unstructured, err error) {
	if v, ok, err := s.ruled(r, u); ok {
		return v, false, nil, err
	}
	res, err := kstatus.Compute(u)
	if err != nil {
		return v, false, nil, &FailedError{Object: r, Reason: "status unreadable: " + err.Error()}
	}
	if reason := deadlineExceeded(u); reason != "" {
		return v, false, nil, &FailedError{Object: r, Reason: reason}
	}
	if res.Status == kstatus.FailedStatus {
		return v, false, nil, &FailedError{Object: r, Reason: res.Message}
	}
	observed, why := generationObserved(r, u)
	if observed {
		readPods, pods = true, s.podsOf(r, u)
		if reason := podTrouble(pods); reason != "" {
			return v, readPods, pods, &FailedError{Object: r, Reason: reason}
		}
	}
	v.current = observed && res.Status == kstatus.CurrentStatus
	if w, ok := workload(r, u, observed); ok && !v.current {
		v.workload = &w
	}
	switch {
	case v.current:
	case !observed:
		v.pending = pending(r, why)
	default:
		v.pending = pending(r, res.Message)
	}
	v.until = movesAt(r, u, v, s.now)
	return v, readPods, pods, nil
}

func pending(r Object, why string) string {
	return fmt.Sprintf("%s %s: %s", r.GroupKind.Kind, r.Name, why)
}

// generationObserved: the object's controller has seen the applied spec, so
// its status, revision and pods are those of this apply. Workload
// controllers always report it; other kinds are trusted when they do not.
func generationObserved(r Object, u *unstructured.Unstructured) (bool, string) {
	gen := u.GetGeneration()
	og, found, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	switch {
	case found && og >= gen:
		return true, ""
	case found:
		return false, fmt.Sprintf("generation %d not observed yet (observed %d)", gen, og)
	case reportsGeneration(r) && gen > 0:
		return false, fmt.Sprintf("generation %d not observed yet", gen)
	}
	return true, ""
}

func reportsGeneration(r Object) bool {
	return r.GroupKind.Group == "apps" && (r.GroupKind.Kind == "Deployment" || r.GroupKind.Kind == "StatefulSet" || r.GroupKind.Kind == "DaemonSet" || r.GroupKind.Kind == "ReplicaSet")
}

func isWorkload(r Object) bool {
	switch {
	case r.GroupKind.Group == "apps" && (r.GroupKind.Kind == "Deployment" || r.GroupKind.Kind == "StatefulSet" || r.GroupKind.Kind == "DaemonSet"):
		return true
	case r.GroupKind.Group == "batch" && r.GroupKind.Kind == "Job":
		return true
	}
	return false
}

func deadlineExceeded(u *unstructured.Unstructured) string {
	if u.GetKind() != "Deployment" {
		return ""
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Progressing" && m["status"] == "False" && m["reason"] == "ProgressDeadlineExceeded" {
			return fmt.Sprintf("ProgressDeadlineExceeded (%v)", m["message"])
		}
	}
	return ""
}

// workload reads the replica counts of Deployments, StatefulSets and
// DaemonSets.
func workload(r Object, u *unstructured.Unstructured, observed bool) (Workload, bool) {
	n := func(fields ...string) int64 {
		v, _, _ := unstructured.NestedInt64(u.Object, fields...)
		return v
	}
	w := Workload{Object: r}
	switch {
	case r.GroupKind.Group != "apps":
		return w, false
	case r.GroupKind.Kind == "Deployment" || r.GroupKind.Kind == "StatefulSet":
		w.Desired = 1
		if v, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas"); found {
			w.Desired = v
		}
		w.Updated, w.Ready, w.Available = n("status", "updatedReplicas"), n("status", "readyReplicas"), n("status", "availableReplicas")
	case r.GroupKind.Kind == "DaemonSet":
		w.Desired, w.Updated = n("status", "desiredNumberScheduled"), n("status", "updatedNumberScheduled")
		w.Ready, w.Available = n("status", "numberReady"), n("status", "numberAvailable")
	default:
		return w, false
	}
	if !observed {
		w.Updated = 0 // counts of the previous rollout
	}
	return w, true
}
