package readiness

import (
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/yaml"
)

func obj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(doc))
	require.NoError(t, err)
	u := &unstructured.Unstructured{}
	require.NoError(t, utiljson.Unmarshal(j, &u.Object)) // integers as int64, as the API machinery reads them
	return u
}

func lister(t *testing.T, resource string, objs ...*unstructured.Unstructured) cache.GenericLister {
	t.Helper()
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, o := range objs {
		require.NoError(t, idx.Add(o))
	}
	return cache.NewGenericLister(idx, schema.GroupResource{Resource: resource})
}

func pod(t *testing.T, name, ownerUID, waiting string) *unstructured.Unstructured {
	state := "{running: {}}"
	if waiting != "" {
		state = "{waiting: {reason: " + waiting + ", message: m}}"
	}
	return obj(t, `apiVersion: v1
kind: Pod
metadata:
  name: `+name+`
  namespace: ns
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: x, uid: `+ownerUID+`, controller: true}]
status:
  containerStatuses: [{name: app, image: i, imageID: "", ready: false, restartCount: 1, state: `+state+`}]
`)
}

func replicaSet(t *testing.T, uid, revision string) *unstructured.Unstructured {
	return obj(t, `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-`+uid+`
  namespace: ns
  uid: `+uid+`
  annotations: {deployment.kubernetes.io/revision: "`+revision+`"}
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: dep, controller: true}]
`)
}

func pareAll(t *testing.T, p pare, objs ...*unstructured.Unstructured) []*unstructured.Unstructured {
	t.Helper()
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		got, err := p.transform(o.DeepCopy())
		require.NoError(t, err)
		out[i] = got.(*unstructured.Unstructured)
	}
	return out
}

var webRef = Object{GroupKind: schema.GroupKind{Group: "apps", Kind: "Deployment"}, Namespace: "ns", Name: "web"}

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ns
  uid: dep
  generation: 2
  annotations: {deployment.kubernetes.io/revision: "2"}
spec: {replicas: 2}
status: {observedGeneration: 2, replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2}
`

func TestOnlyPodsOfTheCurrentRevisionFail(t *testing.T) {
	dep := obj(t, webDeployment)
	cases := []struct {
		name   string
		pods   []*unstructured.Unstructured
		reason string
	}{
		{"old revision crashing", []*unstructured.Unstructured{pod(t, "web-old-a", "rs1", "CrashLoopBackOff"), pod(t, "web-new-a", "rs2", "")}, ""},
		{"new revision crashing", []*unstructured.Unstructured{pod(t, "web-old-a", "rs1", ""), pod(t, "web-new-a", "rs2", "CrashLoopBackOff")},
			"pod web-new-a container app: CrashLoopBackOff (m)"},
		{"several", []*unstructured.Unstructured{pod(t, "web-new-b", "rs2", "ErrImagePull"), pod(t, "web-new-a", "rs2", "ImagePullBackOff")},
			"pod web-new-a container app: ImagePullBackOff (m) (and 1 more)"},
		{"waiting, not failing", []*unstructured.Unstructured{pod(t, "web-new-a", "rs2", "ContainerCreating")}, ""},
		{"someone else's pod", []*unstructured.Unstructured{pod(t, "other", "rs9", "CrashLoopBackOff")}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := &watchSet{
				where: map[Object]place{webRef: {entry: &entry{lister: lister(t, "deployments", dep)}, namespace: "ns"}},
				// As the informers hold them: pared.
				pods:        map[string]*entry{"ns": indexed(t, "pods", pareAll(t, podTroubles, tc.pods...)...)},
				replicaSets: map[string]*entry{"ns": indexed(t, "replicasets", pareAll(t, revisions, replicaSet(t, "rs1", "1"), replicaSet(t, "rs2", "2"))...)},
			}
			p, err := ws.snapshot().evaluate([]Object{webRef})
			if tc.reason == "" {
				require.NoError(t, err)
				require.Equal(t, Progress{Total: 1, Pending: p.Pending, Workloads: []Workload{{Object: webRef, Desired: 2, Updated: 1, Ready: 2, Available: 2}}}, p)
				return
			}
			require.Equal(t, &FailedError{Object: webRef, Reason: tc.reason}, err)
		})
	}
}

func TestGenerationObserved(t *testing.T) {
	cases := []struct {
		name string
		ref  Object
		doc  string
		want bool
		why  string
	}{
		{"observed", webRef, `{metadata: {generation: 2}, status: {observedGeneration: 2}}`, true, ""},
		{"behind", webRef, `{metadata: {generation: 3}, status: {observedGeneration: 2}}`, false, "generation 3 not observed yet (observed 2)"},
		{"workload without status yet", webRef, `{metadata: {generation: 1}}`, false, "generation 1 not observed yet"},
		{"other kinds without the field", Object{GroupKind: schema.GroupKind{Kind: "ConfigMap"}}, `{metadata: {generation: 1}}`, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, why := generationObserved(tc.ref, obj(t, tc.doc))
			require.Equal(t, tc.want, ok)
			require.Equal(t, tc.why, why)
		})
	}
}

func TestDeadlineExceededFails(t *testing.T) {
	dep := obj(t, webDeployment)
	require.NoError(t, unstructured.SetNestedSlice(dep.Object, []any{map[string]any{
		"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": `ReplicaSet "web-rs2" has timed out progressing.`,
	}}, "status", "conditions"))
	ws := &watchSet{
		where: map[Object]place{webRef: {entry: &entry{lister: lister(t, "deployments", dep)}, namespace: "ns"}},
	}
	_, err := ws.snapshot().evaluate([]Object{webRef})
	require.EqualError(t, err, `Deployment web: ProgressDeadlineExceeded (ReplicaSet "web-rs2" has timed out progressing.)`)
}

func TestProgressString(t *testing.T) {
	require.Equal(t, "ready (3/3)", Progress{Ready: 3, Total: 3}.String())
	require.Equal(t, "rolling out (2/3 ready)", Progress{Ready: 2, Total: 3}.String())
	require.Equal(t, "rolling out (2/3 ready; Deployment web: 1/3 updated, 2/3 ready)", Progress{Ready: 2, Total: 3,
		Workloads: []Workload{{Object: webRef, Desired: 3, Updated: 1, Ready: 2, Available: 2}}}.String())
}

// Informers keep of pods and ReplicaSets only what readiness reads.
func TestParedPodsAndReplicaSets(t *testing.T) {
	p := obj(t, `apiVersion: v1
kind: Pod
metadata:
  name: web-a
  namespace: ns
  uid: u1
  resourceVersion: "7"
  labels: {app: web, pod-template-generation: "2"}
  annotations: {big: "x"}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: x, uid: rs2, controller: true}]
  managedFields: [{manager: kubelet}]
spec: {containers: [{name: app, image: i, env: [{name: A, value: b}]}]}
status:
  phase: Pending
  initContainerStatuses: [{name: init, ready: false, state: {waiting: {reason: CrashLoopBackOff, message: m}}}]
  containerStatuses: [{name: app, ready: false, imageID: x, state: {running: {startedAt: "2026-01-01T00:00:00Z"}}}]
`)
	require.Equal(t, obj(t, `apiVersion: v1
kind: Pod
metadata:
  name: web-a
  namespace: ns
  uid: u1
  resourceVersion: "7"
  labels: {app: web, pod-template-generation: "2"}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: x, uid: rs2, controller: true}]
status:
  initContainerStatuses: [{name: init, state: {waiting: {reason: CrashLoopBackOff, message: m}}}]
  containerStatuses: [{name: app}]
`).Object, pareAll(t, podTroubles, p)[0].Object)

	rs := replicaSet(t, "rs2", "2")
	rs.SetLabels(map[string]string{"app": "web"})
	rs.SetAnnotations(map[string]string{revisionAnnotation: "2", "deployment.kubernetes.io/desired-replicas": "3"})
	got := pareAll(t, revisions, rs)[0]
	require.Equal(t, map[string]string{revisionAnnotation: "2"}, got.GetAnnotations())
	require.Equal(t, rs.GetOwnerReferences(), got.GetOwnerReferences())
	require.Equal(t, rs.GetUID(), got.GetUID())
	require.Nil(t, got.GetLabels())
}

// An object is judged on the newer of the Wait's first list and its
// informer: an informer started before the apply may still hold the state
// before it, and one that saw a deletion since the list is right.
func TestSeedOrInformer(t *testing.T) {
	at := func(rv string, observed int64) *unstructured.Unstructured {
		u := obj(t, webDeployment)
		u.SetResourceVersion(rv)
		require.NoError(t, unstructured.SetNestedField(u.Object, observed, "status", "observedGeneration"))
		return u
	}
	for _, tc := range []struct {
		name         string
		seed, cached *unstructured.Unstructured
		gone         bool
		want         string
	}{
		{"informer behind the apply", at("20", 1), at("9", 2), false, "20"},
		{"informer caught up", at("20", 1), at("21", 2), false, "21"},
		{"informer not holding it yet", at("20", 1), nil, false, "20"},
		{"deleted since the list", at("20", 1), nil, true, ""},
		{"not listed", nil, at("9", 2), false, "9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cached []*unstructured.Unstructured
			if tc.cached != nil {
				cached = append(cached, tc.cached)
			}
			ws := &watchSet{
				where: map[Object]place{webRef: {entry: &entry{lister: lister(t, "deployments", cached...)}, namespace: "ns"}},
				seeds: map[Object]*unstructured.Unstructured{},
				w:     &waiter{gone: map[Object]bool{webRef: tc.gone}},
			}
			if tc.seed != nil {
				ws.seeds[webRef] = tc.seed
			}
			got := ws.snapshot().get(webRef)
			if tc.want == "" {
				require.Nil(t, got)
				return
			}
			require.Equal(t, tc.want, got.GetResourceVersion())
		})
	}
}
