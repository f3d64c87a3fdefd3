package readiness

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Progress is how far a rollout got.
type Progress struct {
	// Ready of Total objects are Current.
	Ready, Total int
	// Pending names the objects not yet Current, with why.
	Pending []string
	// Workloads are the replica counts of the Deployments, StatefulSets and
	// DaemonSets not yet Current.
	Workloads []Workload
}

// Workload counts the replicas of one workload. Before its controller
// observed the applied generation, Updated is 0.
type Workload struct {
	Object                             Object
	Desired, Updated, Ready, Available int64
}

// String reads like "rolling out (2/3 ready; Deployment web: 1/3 updated,
// 2/3 ready)".
func (p Progress) String() string {
	if p.Ready == p.Total {
		return fmt.Sprintf("ready (%d/%d)", p.Ready, p.Total)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rolling out (%d/%d ready", p.Ready, p.Total)
	for i, w := range p.Workloads {
		if i == 3 {
			fmt.Fprintf(&b, "; %d more workloads", len(p.Workloads)-i)
			break
		}
		fmt.Fprintf(&b, "; %s %s: %d/%d updated, %d/%d ready", w.Object.GroupKind.Kind, w.Object.Name, w.Updated, w.Desired, w.Ready, w.Desired)
	}
	b.WriteString(")")
	return b.String()
}

// Object names one object to wait for, the way cli-utils' ObjMetadata
// does: its kind (the preferred version is read) and where it is; an
// empty Namespace names a cluster-scoped object.
type Object struct {
	GroupKind schema.GroupKind
	Namespace string
	Name      string
}

// String reads like "Deployment team-a/web".
func (o Object) String() string {
	if o.Namespace == "" {
		return o.GroupKind.Kind + " " + o.Name
	}
	return o.GroupKind.Kind + " " + o.Namespace + "/" + o.Name
}
