package readiness

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/healthrule"
)

// ruled judges u by the health rule of its kind, when there is one, in
// place of kstatus: current counts it ready, failed fails the rollout,
// anything else leaves it pending with the reason. A rule that cannot be
// evaluated on u leaves it pending with the evaluation error (so the
// health timeout names it) and is logged. ok is false when no rule covers
// its kind.
func (s *snapshot) ruled(r Object, u *unstructured.Unstructured) (v outcome, ok bool, err error) {
	rv, ok := s.ws.rules.Judge(u)
	if !ok {
		return v, false, nil
	}
	switch rv.Status {
	case healthrule.Current:
		v.current = true
	case healthrule.Failed:
		return v, true, &FailedError{Object: r, Reason: rv.Message}
	case healthrule.Error:
		s.ws.ruleErrors(r, rv.Message)
		v.pending = pending(r, rv.Message)
	default:
		v.pending = pending(r, rv.Message)
	}
	return v, true, nil
}

// ruleErrorLogger logs each object's rule error once per Wait, and again
// when it changes.
func (c *Checker) ruleErrorLogger() func(Object, string) {
	seen := map[Object]string{}
	return func(r Object, msg string) {
		if seen[r] == msg {
			return
		}
		seen[r] = msg
		c.log.Warn("health rule cannot judge an object", "object", r.String(), "err", msg)
	}
}
