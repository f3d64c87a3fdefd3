package readiness

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/clusterwide"
	"github.com/syncgate/syncgate/sync/healthrule"
	"github.com/syncgate/syncgate/testing/cluster"
)

// The informers shared by every rollout keep a Deployment without its pod
// template and a ConfigMap without its data: nothing judging them reads
// those, and they are most of what the objects hold.
func TestWorkloadInformerKeepsNoPodTemplate(t *testing.T) {
	c := cluster.Shared(t)
	ctx := context.Background()
	ns := cluster.Namespace(t, c)
	own, err := dynamic.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	clients, err := apply.NewClients(c.RESTConfig(), "")
	require.NoError(t, err)
	checker, err := New(Options{Clients: clients, Own: own, Grants: clusterwide.NewGrants(own, 0, nil), Timeout: 2 * time.Minute})
	require.NoError(t, err)
	applier, err := apply.New(c.RESTConfig(), apply.Options{})
	require.NoError(t, err)
	res, err := applier.Apply(ctx, ns, []*unstructured.Unstructured{obj(t, `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {payload: xxxxxxxx}
`), obj(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, annotations: {team: a}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: registry.example.com/web:1}]}
`)}, nil)
	require.NoError(t, err)
	var refs []Object
	for _, e := range res.Inventory {
		refs = append(refs, Object{GroupKind: schema.GroupKind{Group: e.Group, Kind: e.Kind}, Namespace: ns, Name: e.Name})
	}
	require.NoError(t, checker.Wait(ctx, ns, refs, nil))

	settings := cachedObject(t, checker, schema.GroupResource{Resource: "configmaps"}, ns, "settings")
	require.NotContains(t, settings.Object, "data")
	require.Nil(t, settings.GetLabels())
	require.NotEmpty(t, settings.GetUID())

	cached := cachedObject(t, checker, schema.GroupResource{Group: "apps", Resource: "deployments"}, ns, "web")
	_, found, _ := unstructured.NestedFieldNoCopy(cached.Object, "spec", "template")
	require.False(t, found, "the pod template is not kept")
	require.Nil(t, cached.GetLabels())
	require.Equal(t, map[string]string{revisionAnnotation: "1"}, cached.GetAnnotations())
	replicas, _, _ := unstructured.NestedInt64(cached.Object, "spec", "replicas")
	require.EqualValues(t, 2, replicas)
	require.EqualValues(t, 1, cached.GetGeneration())
	observed, _, _ := unstructured.NestedInt64(cached.Object, "status", "observedGeneration")
	require.EqualValues(t, 1, observed)
}

// cachedObject is namespace/name as the Checker's informer of gr holds it.
func cachedObject(t *testing.T, c *Checker, gr schema.GroupResource, namespace, name string) *unstructured.Unstructured {
	t.Helper()
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	for k, e := range c.pool.entries {
		if k.gvr.GroupResource() != gr {
			continue
		}
		o, err := e.lister.ByNamespace(namespace).Get(name)
		require.NoError(t, err)
		return o.(*unstructured.Unstructured)
	}
	t.Fatalf("no informer of %s", gr)
	return nil
}

// An object is judged the same kept so as whole; a kind a health rule
// judges is kept whole, since its expressions may read any field.
func TestWorkloadsParedAsJudged(t *testing.T) {
	deployment := func() *unstructured.Unstructured {
		return obj(t, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ns
  uid: dep
  generation: 3
  labels: {app: web}
  annotations: {deployment.kubernetes.io/revision: "2", team: a}
  ownerReferences: [{apiVersion: v1, kind: Thing, name: t, uid: o}]
spec:
  replicas: 3
  paused: false
  strategy: {type: RollingUpdate}
  template: {spec: {containers: [{name: app, image: i}]}}
status:
  observedGeneration: 3
  replicas: 3
  updatedReplicas: 2
  readyReplicas: 2
  availableReplicas: 2
  conditions: [{type: Progressing, status: "True", reason: ReplicaSetUpdated, message: m}]
`)
	}
	apps := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	require.Equal(t, judged, pareFor(apps, nil))
	require.Equal(t, judged, pareFor(schema.GroupKind{Kind: "ConfigMap"}, nil))

	got, err := judged.transform(deployment())
	require.NoError(t, err)
	pared := got.(*unstructured.Unstructured)
	want, err := kstatus.Compute(deployment())
	require.NoError(t, err)
	res, err := kstatus.Compute(pared)
	require.NoError(t, err)
	require.Equal(t, want, res)
	ref := Object{GroupKind: apps, Namespace: "ns", Name: "web"}
	w1, _ := workload(ref, deployment(), true)
	w2, _ := workload(ref, pared, true)
	require.Equal(t, w1, w2)
	require.Equal(t, deployment().GetOwnerReferences(), pared.GetOwnerReferences())
	require.Equal(t, "dep", string(pared.GetUID()))

	rules, err := healthrule.Parse(`[{apiVersion: apps/v1, kind: Deployment, current: "status.readyReplicas == spec.replicas"}]`)
	require.NoError(t, err)
	require.Equal(t, whole, pareFor(apps, rules))
	require.Equal(t, judged, pareFor(schema.GroupKind{Group: "apps", Kind: "StatefulSet"}, rules))

	for _, doc := range []string{`apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: ns}
data: {a: b}
`, `apiVersion: v1
kind: Service
metadata: {name: s, namespace: ns}
spec: {type: LoadBalancer, clusterIP: 10.0.0.1}
status: {loadBalancer: {}}
`} {
		whole := obj(t, doc)
		want, err := kstatus.Compute(whole)
		require.NoError(t, err)
		got, err := judged.transform(obj(t, doc))
		require.NoError(t, err)
		res, err := kstatus.Compute(got.(*unstructured.Unstructured))
		require.NoError(t, err)
		require.Equal(t, want, res, whole.GetKind())
	}
}
