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
				where:       map[Object]target{webRef: {webRef.GroupKind, "ns", ""}},
				listers:     map[target]cache.GenericLister{{webRef.GroupKind, "ns", ""}: lister(t, "deployments", dep)},
				pods:        map[string]cache.GenericLister{"ns": lister(t, "pods", tc.pods...)},
				replicaSets: map[string]cache.GenericLister{"ns": lister(t, "replicasets", replicaSet(t, "rs1", "1"), replicaSet(t, "rs2", "2"))},
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
		where:   map[Object]target{webRef: {webRef.GroupKind, "ns", ""}},
		listers: map[target]cache.GenericLister{{webRef.GroupKind, "ns", ""}: lister(t, "deployments", dep)},
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
