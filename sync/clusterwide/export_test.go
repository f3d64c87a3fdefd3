package clusterwide

import "k8s.io/apimachinery/pkg/runtime/schema"

// AskBackoff lets tests pace the questions asked again in milliseconds.
var AskBackoff = &askBackoff

// ReaskBackoff lets tests pace the questions asked again while watching
// per namespace.
var ReaskBackoff = &reaskBackoff

// RefusedBackoff lets tests pace the questions asked again after a
// refusal.
var RefusedBackoff = &refusedBackoff

// Waiting is how many callers wait for the question in flight about gvr,
// besides the one who asked it.
func Waiting(g *Grants, gvr schema.GroupVersionResource) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if q := g.asking[gvr]; q != nil {
		return q.waiting
	}
	return 0
}
