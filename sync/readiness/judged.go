package readiness

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
// it keeps it from being reused for another.

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
// state of r with the same current pods.
func (s *snapshot) judge(r Object, u *unstructured.Unstructured) (outcome, error) {
	j, ok := s.ws.judged[r]
	if ok && j.u == u && (!j.readPods || samePods(s.podsOf(r, u), j.pods)) {
		return j.v, j.err
	}
	v, readPods, pods, err := s.judgeAnew(r, u)
	if s.ws.judged == nil {
		s.ws.judged = map[Object]judgement{}
	}
	s.ws.judged[r] = judgement{u: u, readPods: readPods, pods: pods, v: v, err: err}
	return v, err
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
