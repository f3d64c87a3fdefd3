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
	checker, err := New(Options{Clients: clients, Own: own, Grants: clusterwide.NewGrants(own, 0, nil)})
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
	require.NoError(t, checker.Wait(ctx, ns, refs, time.Now().Add(2*time.Minute), nil))

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

// An object waited for is judged the same kept as judged keeps it as
// whole, in every state of every kind kstatus and the pod checks read in
// their own ways (judgedCases); a kind a health rule judges is kept whole,
// since its expressions may read any field.
func TestWorkloadsParedAsJudged(t *testing.T) {
	apps := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	require.Equal(t, judged, pareFor(apps, nil))
	require.Equal(t, judged, pareFor(schema.GroupKind{Kind: "ConfigMap"}, nil))
	rules, err := healthrule.Parse(`[{apiVersion: apps/v1, kind: Deployment, current: "status.readyReplicas == spec.replicas"}]`)
	require.NoError(t, err)
	require.Equal(t, whole, pareFor(apps, rules))
	require.Equal(t, judged, pareFor(schema.GroupKind{Group: "apps", Kind: "StatefulSet"}, rules))

	for _, c := range judgedCases() {
		t.Run(c.name, func(t *testing.T) {
			asWhole, outcome := judgeKept(t, whole, c)
			require.Equal(t, c.want, outcome, "judged whole: %+v", asWhole)
			asJudged, _ := judgeKept(t, judged, c)
			require.Equal(t, asWhole, asJudged)
		})
	}
}

// verdict is how an object is judged: kstatus's result, and a Wait's.
type verdict struct {
	status    *kstatus.Result
	statusErr string
	progress  Progress
	err       error
}

// judgeKept judges c's object as an informer keeping it as p holds it,
// beside its namespace's pods and ReplicaSets pared as their informers
// keep them; outcome is ready, pending or failed.
func judgeKept(t *testing.T, p pare, c judgedCase) (v verdict, outcome string) {
	t.Helper()
	kept := pareAll(t, p, obj(t, c.doc))[0]
	ref := Object{GroupKind: kept.GroupVersionKind().GroupKind(), Namespace: kept.GetNamespace(), Name: kept.GetName()}
	if p == judged {
		require.Equal(t, "x-uid", string(kept.GetUID()))
		require.Len(t, kept.GetOwnerReferences(), 1)
	}
	var err error
	if v.status, err = kstatus.Compute(kept); err != nil {
		v.statusErr = err.Error()
	}
	var pods, replicaSets []*unstructured.Unstructured
	for _, d := range c.pods {
		pods = append(pods, obj(t, d))
	}
	for _, d := range c.replicaSets {
		replicaSets = append(replicaSets, obj(t, d))
	}
	ws := &watchSet{
		where:       map[Object]place{ref: {entry: &entry{lister: lister(t, "objects", kept)}, namespace: ref.Namespace}},
		pods:        map[string]*entry{"ns": indexed(t, "pods", pareAll(t, podTroubles, pods...)...)},
		replicaSets: map[string]*entry{"ns": indexed(t, "replicasets", pareAll(t, revisions, replicaSets...)...)},
	}
	v.progress, v.err = ws.snapshot().evaluate([]Object{ref})
	switch {
	case v.err != nil:
		return v, "failed"
	case v.progress.Ready == 1:
		return v, "ready"
	}
	return v, "pending"
}
