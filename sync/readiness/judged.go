package readiness

import (
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// A Wait judges its objects again on every event about their namespaces,
// and in a first sync of 250 Deployments most events are about one object
// or pod among a thousand: judging every object anew each time (kstatus
// converts each workload to its typed form; its pods are converted to read
// their containers) took a third of syncgate's CPU during the sync, CPU the
// control plane rolling the workloads out shares. So each Wait keeps what
// each object's state judged, and judges again only an object whose state
// the informers replaced, or whose current pods changed (read through the
// informers' index by controller, pods.go, not gathered from the
// namespace's every pod).
//
// An informer never changes an object it holds: a new state is a new
// object. The same pointer is the same state, and the judgement holding
// it keeps it from being reused for another. One verdict moves with the
// clock alone, a Pod's that cannot be scheduled (movesAt); it is judged
// again when its time comes, and the Wait wakes for it (recheck).

// judgement is the outcome (or failure) of one state of an object, and
// the pods it read.
type judgement struct {
	u        *unstructured.Unstructured
	readPods bool
	pods     []*unstructured.Unstructured
	v        outcome
	err      error
}

// judge is judgeAnew(r, u), or what the Wait judged before of this same
// state of r with the same current pods, unless the clock alone has moved
// that verdict since (outcome.until). It notes in s the earliest time a
// verdict it gives will move so (recheck).
func (s *snapshot) judge(r Object, u *unstructured.Unstructured) (outcome, error) {
	j, ok := s.ws.judged[r]
	if !ok || j.u != u || (!j.v.until.IsZero() && !s.now.Before(j.v.until)) || (j.readPods && !samePods(s.podsOf(r, u), j.pods)) {
		v, readPods, pods, err := s.judgeAnew(r, u)
		if s.ws.judged == nil {
			s.ws.judged = map[Object]judgement{}
		}
		j = judgement{u: u, readPods: readPods, pods: pods, v: v, err: err}
		s.ws.judged[r] = j
		s.ws.judgedAnew++
	}
	if !j.v.until.IsZero() && (s.recheck.IsZero() || j.v.until.Before(s.recheck)) {
		s.recheck = j.v.until
	}
	return j.v, j.err
}

// movesAt is when the verdict of u (pending, v) moves with the clock alone,
// or zero: kstatus gives a Pod that the scheduler finds no node for
// ScheduleWindow from its creation before it fails it.
func movesAt(r Object, u *unstructured.Unstructured, v outcome, now time.Time) time.Time {
	if v.current || r.GroupKind.Group != "" || r.GroupKind.Kind != "Pod" {
		return time.Time{}
	}
	if t := u.GetCreationTimestamp().Add(kstatus.ScheduleWindow); now.Before(t) {
		return t
	}
	return time.Time{}
}

// samePods tells whether a and b hold the same pod states, in any order
// (an informer lists in no set order).
func samePods(a, b []*unstructured.Unstructured) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) <= 16 {
		for _, p := range a {
			if !slices.Contains(b, p) {
				return false
			}
		}
		return true
	}
	in := make(map[*unstructured.Unstructured]bool, len(b))
	for _, p := range b {
		in[p] = true
	}
	for _, p := range a {
		if !in[p] {
			return false
		}
	}
	return true
}
