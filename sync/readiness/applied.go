package readiness

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/syncgate/syncgate/sync/healthrule"
)

// ReadyAsApplied reports whether u, as the server answered its apply, is
// ready the way Wait would judge it on first sight: Current by its kind's
// health rule or else by kstatus, with its generation observed. Workloads
// and Pods never are (Wait must see their pods), so a ConfigMap, Secret or
// ClusterIP Service written by a commit needs no watch to be found ready.
func (c *Checker) ReadyAsApplied(u *unstructured.Unstructured) bool {
	r := Object{GroupKind: u.GroupVersionKind().GroupKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
	if isWorkload(r) || (r.GroupKind.Group == "" && r.GroupKind.Kind == "Pod") {
		return false
	}
	if v, ok := c.opts.Rules.Judge(u); ok {
		return v.Status == healthrule.Current
	}
	res, err := kstatus.Compute(u)
	if err != nil || res.Status != kstatus.CurrentStatus || deadlineExceeded(u) != "" {
		return false
	}
	observed, _ := generationObserved(r, u)
	return observed
}
