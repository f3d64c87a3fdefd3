package readiness

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/healthrule"
)

// ruled judges u by the health rule of its kind, when there is one, in
// place of kstatus: current counts it ready, failed fails the rollout,
// anything else leaves it pending with the reason. A rule that cannot be
// evaluated on u leaves it pending with the evaluation error (so the
// health timeout names it) and is logged. false: no rule covers its kind.
func (s *snapshot) ruled(r Object, u *unstructured.Unstructured, p *Progress) (bool, error) {
	v, ok := s.ws.rules.Judge(u)
	if !ok {
		return false, nil
	}
	switch v.Status {
	case healthrule.Current:
		p.Ready++
	case healthrule.Failed:
		return true, &FailedError{Object: r, Reason: v.Message}
	case healthrule.Error:
		s.ws.ruleErrors(r, v.Message)
		p.Pending = append(p.Pending, pending(r, v.Message))
	default:
		p.Pending = append(p.Pending, pending(r, v.Message))
	}
	return true, nil
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
