package readiness

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// store is an informer's cache, indexed as the pool's are, that a test
// replaces objects in as events do.
func store(t *testing.T, resource string, objs ...*unstructured.Unstructured) (cache.Indexer, *entry) {
	t.Helper()
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, indexers)
	for _, o := range objs {
		require.NoError(t, idx.Add(o))
	}
	return idx, &entry{indexer: idx, lister: cache.NewGenericLister(idx, schema.GroupResource{Resource: resource})}
}

// indexed is an informer's entry holding objs.
func indexed(t *testing.T, resource string, objs ...*unstructured.Unstructured) *entry {
	_, e := store(t, resource, objs...)
	return e
}

// One Wait evaluates again and again as events come: what it kept of an
// object's state must follow every change that state's verdict reads —
// the object replaced, its current pods added, replaced or gone, its
// current revision moved — and nothing else.
func TestAKeptJudgementFollowsTheObjectAndItsPods(t *testing.T) {
	dep := obj(t, webDeployment)
	deps, depEntry := store(t, "deployments", dep)
	pods, podEntry := store(t, "pods")
	sets, setEntry := store(t, "replicasets", pareAll(t, revisions, replicaSet(t, "rs1", "1"), replicaSet(t, "rs2", "2"))...)
	ws := &watchSet{
		where:       map[Object]place{webRef: {entry: depEntry, namespace: "ns"}},
		pods:        map[string]*entry{"ns": podEntry},
		replicaSets: map[string]*entry{"ns": setEntry},
	}
	evaluate := func() (Progress, error) { return ws.snapshot().evaluate([]Object{webRef}) }
	pending := Progress{Total: 1, Pending: []string{"Deployment web: Deployment not Ready"}, Workloads: []Workload{{Object: webRef, Desired: 2, Updated: 1, Ready: 2, Available: 2}}}
	trouble := &FailedError{Object: webRef, Reason: "pod web-new-a container app: CrashLoopBackOff (m)"}
	addPod := func(p *unstructured.Unstructured) { require.NoError(t, pods.Update(pareAll(t, podTroubles, p)[0])) }

	p, err := evaluate()
	require.NoError(t, err)
	pending.Pending = p.Pending // kstatus's wording
	require.Equal(t, pending, p)
	// Kept: judged once, though evaluated again, and though a pod of
	// another revision comes.
	_, err = evaluate()
	require.NoError(t, err)
	addPod(pod(t, "web-old-b", "rs1", ""))
	_, err = evaluate()
	require.NoError(t, err)
	require.Equal(t, 1, ws.judgedAnew)

	addPod(pod(t, "web-new-a", "rs2", "")) // a pod of the current revision, running
	p, err = evaluate()
	require.NoError(t, err)
	require.Equal(t, pending, p)

	addPod(pod(t, "web-new-a", "rs2", "CrashLoopBackOff")) // the same pod, a new state
	_, err = evaluate()
	require.Equal(t, trouble, err)

	addPod(pod(t, "web-new-a", "rs2", "")) // recovered
	_, err = evaluate()
	require.NoError(t, err)

	addPod(pod(t, "web-new-b", "rs2", "CrashLoopBackOff")) // a second pod joins
	_, err = evaluate()
	require.Equal(t, &FailedError{Object: webRef, Reason: "pod web-new-b container app: CrashLoopBackOff (m)"}, err)

	require.NoError(t, pods.Delete(pareAll(t, podTroubles, pod(t, "web-new-b", "rs2", ""))[0])) // and goes
	_, err = evaluate()
	require.NoError(t, err)

	// The revision moves back to rs1, whose pod crashes: the Deployment's
	// state is replaced, its pods are others.
	addPod(pod(t, "web-old-a", "rs1", "CrashLoopBackOff"))
	_, err = evaluate()
	require.NoError(t, err, "rs1 is not the current revision yet")
	back := dep.DeepCopy()
	back.SetAnnotations(map[string]string{revisionAnnotation: "1"})
	back.SetResourceVersion("9")
	require.NoError(t, deps.Update(back))
	_, err = evaluate()
	require.Equal(t, &FailedError{Object: webRef, Reason: "pod web-old-a container app: CrashLoopBackOff (m)"}, err)

	// The ReplicaSets alone change which pods are current: rs2 takes
	// revision 1 (the objects of the Deployment and of the pods stay).
	require.NoError(t, sets.Update(pareAll(t, revisions, replicaSet(t, "rs1", "3"))[0]))
	require.NoError(t, sets.Update(pareAll(t, revisions, replicaSet(t, "rs2", "1"))[0]))
	_, err = evaluate()
	require.NoError(t, err)

	// Rolled out: the Deployment's new state is Ready.
	done := back.DeepCopy()
	require.NoError(t, unstructured.SetNestedField(done.Object, int64(2), "status", "updatedReplicas"))
	require.NoError(t, unstructured.SetNestedField(done.Object, int64(2), "status", "replicas"))
	require.NoError(t, unstructured.SetNestedSlice(done.Object, []any{map[string]any{"type": "Available", "status": "True"}}, "status", "conditions"))
	done.SetResourceVersion("10")
	require.NoError(t, deps.Update(done))
	p, err = evaluate()
	require.NoError(t, err)
	require.Equal(t, Progress{Total: 1, Ready: 1}, p)
}

// kstatus gives a Pod the scheduler finds no node for 15 s from its
// creation before it fails it: a kept verdict of that Pod expires then,
// and the evaluation says when, for the Wait to wake though no event comes.
func TestAnUnschedulablePodIsJudgedAgainWhenItsTimeComes(t *testing.T) {
	created := time.Now().Truncate(time.Second).Add(-kstatus.ScheduleWindow + time.Second) // as the API gives it: whole seconds
	p := obj(t, `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns}
status:
  phase: Pending
  conditions: [{type: PodScheduled, status: "False", reason: Unschedulable}]
`)
	p.SetCreationTimestamp(metav1.NewTime(created))
	ref := Object{GroupKind: schema.GroupKind{Kind: "Pod"}, Namespace: "ns", Name: "p"}
	_, pods := store(t, "pods", p)
	ws := &watchSet{where: map[Object]place{ref: {entry: pods, namespace: "ns"}}, pods: map[string]*entry{"ns": pods}}

	snap := ws.snapshot()
	progress, err := snap.evaluate([]Object{ref})
	require.NoError(t, err)
	require.Equal(t, []string{"Pod p: Pod has not been scheduled"}, progress.Pending)
	require.Equal(t, created.Add(kstatus.ScheduleWindow), snap.recheck)

	<-time.After(time.Until(snap.recheck)) // what Wait waits for
	_, err = ws.snapshot().evaluate([]Object{ref})
	require.Equal(t, &FailedError{Object: ref, Reason: "Pod could not be scheduled"}, err)
}
