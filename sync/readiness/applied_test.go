package readiness_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/sync/healthrule"
	"github.com/syncgate/syncgate/sync/readiness"
)

// unused are Clients for a Checker that reads nothing: ReadyAsApplied
// judges the object it is given.
type unused struct{}

func (unused) Dynamic(string) (dynamic.Interface, error) { panic("not read") }
func (unused) Mapping(schema.GroupVersionKind) (*apimeta.RESTMapping, error) {
	panic("not read")
}

// What the server answers an apply with is judged as Wait would judge it
// on first sight; workloads and Pods are always left to Wait.
func TestReadyAsApplied(t *testing.T) {
	rules, err := healthrule.Parse(certRule)
	require.NoError(t, err)
	c, err := readiness.New(readiness.Options{Clients: unused{}, Rules: rules})
	require.NoError(t, err)
	for _, tc := range []struct {
		name, obj string
		ready     bool
	}{
		{"ConfigMap", `{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: n}, data: {k: v}}`, true},
		{"Secret", `{apiVersion: v1, kind: Secret, metadata: {name: a, namespace: n}}`, true},
		{"ClusterIP Service", `{apiVersion: v1, kind: Service, metadata: {name: a, namespace: n}, spec: {type: ClusterIP, clusterIP: 10.0.0.1}}`, true},
		{"LoadBalancer Service without a cluster IP", `{apiVersion: v1, kind: Service, metadata: {name: a, namespace: n}, spec: {type: LoadBalancer}}`, false},
		{"Deployment, status current before the apply", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: a, namespace: n, generation: 1},
			spec: {replicas: 1}, status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}}`, false},
		{"Pod", `{apiVersion: v1, kind: Pod, metadata: {name: a, namespace: n}, status: {phase: Running}}`, false},
		{"generation not observed", `{apiVersion: example.dev/v1, kind: Widget, metadata: {name: a, namespace: n, generation: 2},
			status: {observedGeneration: 1}}`, false},
		{"custom kind, ruled current", `{apiVersion: health.syncgate.dev/v1, kind: Certificate, metadata: {name: a, namespace: n},
			status: {conditions: [{type: Issued, status: "True"}]}}`, true},
		{"custom kind, ruled pending", `{apiVersion: health.syncgate.dev/v1, kind: Certificate, metadata: {name: a, namespace: n},
			status: {conditions: [{type: Ready, status: "True"}]}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.ready, c.ReadyAsApplied(decode(t, tc.obj)))
		})
	}
}
