package readiness_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/clusterwide"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{})) }

func meta(group, kind, namespace, name string) readiness.Object {
	return readiness.Object{GroupKind: schema.GroupKind{Group: group, Kind: kind}, Namespace: namespace, Name: name}
}

func decode(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object))
	return u
}

func deployment(t *testing.T, ns, image, annotations string) *unstructured.Unstructured {
	t.Helper()
	return decode(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %s}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}, annotations: {%s}}
    spec:
      containers: [{name: app, image: %q}]
`, ns, annotations, image))
}

type env struct {
	ns      string
	timeout time.Duration
	applier *apply.Applier
	checker *readiness.Checker
	kube    kubernetes.Interface
	inv     []apply.Entry
}

// setup makes a Checker that watches in every namespace as syncgate, as
// syncgate run does with the RBAC deploy/ ships.
func setup(t *testing.T, timeout time.Duration) *env { return setupWatching(t, timeout, true) }

// setupWatching makes a Checker that watches in every namespace, or only
// per namespace.
func setupWatching(t *testing.T, timeout time.Duration, everyNamespace bool) *env {
	t.Helper()
	c := cluster.Shared(t)
	e := &env{ns: cluster.Namespace(t, c), timeout: timeout}
	var err error
	e.applier, err = apply.New(c.RESTConfig(), apply.Options{Prune: true})
	require.NoError(t, err)
	clients, err := apply.NewClients(c.RESTConfig(), "")
	require.NoError(t, err)
	opts := readiness.Options{Clients: clients}
	if everyNamespace {
		opts.Own, err = dynamic.NewForConfig(c.RESTConfig())
		require.NoError(t, err)
		opts.Grants = clusterwide.NewGrants(opts.Own, 0, nil)
	}
	e.checker, err = readiness.New(opts)
	require.NoError(t, err)
	e.kube, err = kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	return e
}

// rollout applies objs and waits for them, as the syncer does.
func (e *env) rollout(t *testing.T, objs ...*unstructured.Unstructured) ([]readiness.Progress, time.Duration, error) {
	t.Helper()
	res, err := e.applier.Apply(context.Background(), e.ns, objs, e.inv)
	require.NoError(t, err)
	e.inv = res.Inventory
	refs := make([]readiness.Object, 0, len(res.Inventory))
	for _, en := range res.Inventory {
		refs = append(refs, meta(en.Group, en.Kind, en.Namespace, en.Name))
	}
	var seen []readiness.Progress
	start := time.Now()
	err = e.checker.Wait(context.Background(), e.ns, refs, start.Add(e.timeout), func(p readiness.Progress) { seen = append(seen, p) })
	return seen, time.Since(start), err
}

func TestAppThenImageBump(t *testing.T) {
	e := setup(t, 2*time.Minute)
	ns := e.ns
	objs := []*unstructured.Unstructured{
		deployment(t, ns, "registry.example.com/web:1", ""),
		decode(t, "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: "+ns+"}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n"),
		decode(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: "+ns+"}\ndata: {a: b}\n"),
		decode(t, "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: "+ns+"}\n"+
			"spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 3, maxReplicas: 4}\n"),
	}
	seen, _, err := e.rollout(t, objs...)
	require.NoError(t, err)
	last := seen[len(seen)-1]
	require.Equal(t, readiness.Progress{Ready: 4, Total: 4}, last)
	require.Equal(t, "ready (4/4)", last.String())

	// The bump is judged on the new generation, whose pods take 2s to be
	// ready, not on the finished rollout of the previous one.
	objs[0] = deployment(t, ns, "registry.example.com/web:2", `syncgate.dev/test-ready-after: "2s"`)
	seen, took, err := e.rollout(t, objs...)
	require.NoError(t, err)
	require.GreaterOrEqual(t, took, 1500*time.Millisecond)
	require.Equal(t, 3, seen[0].Ready, "the Deployment is not ready at first: %v", seen[0])
	require.Equal(t, 4, seen[len(seen)-1].Ready)
	d, err := e.kube.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, d.Generation, d.Status.ObservedGeneration)
	require.EqualValues(t, 3, d.Status.UpdatedReplicas)
	require.EqualValues(t, 3, d.Status.AvailableReplicas)
	require.EqualValues(t, 3, d.Status.Replicas, "old pods are gone")
}

func TestRolloutsFailFast(t *testing.T) {
	cases := []struct {
		name       string
		annotation string
		reason     string
	}{
		{"crashloop", `syncgate.dev/test-fail: crashloop`, "CrashLoopBackOff (back-off"},
		{"imagepull", `syncgate.dev/test-fail: imagepull`, "ImagePullBackOff"},
		{"configerror", `syncgate.dev/test-fail: configerror`, "CreateContainerConfigError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, 2*time.Minute)
			_, took, err := e.rollout(t, deployment(t, e.ns, "registry.example.com/web:1", tc.annotation))
			var failed *readiness.FailedError
			require.ErrorAs(t, err, &failed)
			require.Equal(t, "web", failed.Object.Name)
			require.Contains(t, failed.Reason, tc.reason)
			require.Regexp(t, `^pod web-[a-z0-9]+-[a-z0-9]+ container app: `, failed.Reason)
			require.True(t, strings.HasPrefix(err.Error(), "Deployment web: pod web-"), err.Error())
			require.Less(t, took, 30*time.Second, "fails fast, long before the health timeout")
		})
	}
}

func TestStatefulSetCrashLoop(t *testing.T) {
	e := setup(t, 2*time.Minute)
	sts := decode(t, fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: %s}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}, annotations: {syncgate.dev/test-fail: crashloop}}
    spec:
      containers: [{name: db, image: registry.example.com/db:1}]
`, e.ns))
	_, _, err := e.rollout(t, sts)
	var failed *readiness.FailedError
	require.ErrorAs(t, err, &failed)
	require.Equal(t, "StatefulSet", failed.Object.GroupKind.Kind)
	require.Contains(t, failed.Reason, "pod db-0 container db: CrashLoopBackOff")
}

func TestFixRollsOutWhileBrokenPodsStillCrash(t *testing.T) {
	e := setup(t, 2*time.Minute)
	_, _, err := e.rollout(t, deployment(t, e.ns, "registry.example.com/web:1", ""))
	require.NoError(t, err)

	_, _, err = e.rollout(t, deployment(t, e.ns, "registry.example.com/web:2", `syncgate.dev/test-fail: crashloop`))
	require.ErrorContains(t, err, "CrashLoopBackOff")

	// Pods of the broken revision are still crashing when the fix is
	// applied: only the new revision's pods count.
	_, _, err = e.rollout(t, deployment(t, e.ns, "registry.example.com/web:3", ""))
	require.NoError(t, err)
}

func TestSlowReadinessIsWaitedFor(t *testing.T) {
	e := setup(t, 2*time.Minute)
	seen, took, err := e.rollout(t, deployment(t, e.ns, "registry.example.com/web:1", `syncgate.dev/test-ready-after: "3s"`))
	require.NoError(t, err)
	require.GreaterOrEqual(t, took, 2*time.Second)
	require.Equal(t, 0, seen[0].Ready, "first seen not ready")
	var counted bool
	for _, p := range seen[:len(seen)-1] {
		require.Regexp(t, `^rolling out \(0/1 ready`, p.String())
		if len(p.Workloads) == 1 && p.Workloads[0].Desired == 3 && p.Workloads[0].Updated == 3 {
			counted = true
			require.Contains(t, p.String(), "Deployment web: 3/3 updated, ")
		}
	}
	require.True(t, counted, "replica counts are reported: %v", seen)
}

func TestHealthTimeoutNamesWhatIsNotReady(t *testing.T) {
	e := setup(t, 2*time.Second)
	_, _, err := e.rollout(t, deployment(t, e.ns, "registry.example.com/web:1", `syncgate.dev/test-ready-after: "1h"`))
	require.ErrorIs(t, err, readiness.ErrTimeout)
	require.ErrorContains(t, err, "not ready: Deployment web: ")
}

func TestClusterScopedAndCanceled(t *testing.T) {
	// Objects syncgate did not apply: read per namespace.
	e := setupWatching(t, time.Minute, false)
	ctx := context.Background()
	refs := []readiness.Object{
		meta("", "Namespace", "", e.ns),
		meta("", "ServiceAccount", e.ns, "default"),
	}
	require.NoError(t, e.checker.Wait(ctx, e.ns, refs, time.Now().Add(time.Minute), nil))

	// A missing object is waited for until the caller gives up: that is
	// not a health timeout.
	ctx, cancel := context.WithCancel(ctx)
	refs = append(refs, meta("", "ConfigMap", e.ns, "missing"))
	err := e.checker.Wait(ctx, e.ns, refs, time.Now().Add(time.Minute), func(p readiness.Progress) {
		require.Equal(t, []string{"ConfigMap missing: not found"}, p.Pending)
		cancel()
	})
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, readiness.ErrTimeout)
}

// Readiness reads a namespace's objects as the identity they were applied
// as: a watch that identity may not make fails the wait at once instead of
// lasting until the health timeout.
func TestWaitAsTheNamespaceServiceAccount(t *testing.T) {
	c := cluster.Shared(t)
	ctx := context.Background()
	a, b := cluster.Namespace(t, c), cluster.Namespace(t, c)
	applier := applierAsAccount(t, c, a)
	checker, err := readiness.New(readiness.Options{Clients: applier.Clients()})
	require.NoError(t, err)

	require.NoError(t, checker.Wait(ctx, a, []readiness.Object{meta("", "ServiceAccount", a, "syncgate")}, time.Now().Add(time.Minute), nil))
	for _, ref := range []readiness.Object{
		meta("", "ServiceAccount", b, "default"),
		meta("", "Namespace", "", b),
	} {
		start := time.Now()
		err := checker.Wait(ctx, a, []readiness.Object{ref}, time.Now().Add(time.Minute), nil)
		require.Error(t, err, "%s", ref)
		require.NotErrorIs(t, err, readiness.ErrTimeout)
		require.ErrorContains(t, err, "system:serviceaccount:"+a+":syncgate")
		require.Less(t, time.Since(start), 20*time.Second, "refused at once, not at the health timeout")
	}
}

// applierAsAccount applies as the ServiceAccount syncgate of each
// namespace; that of ns is bound to ClusterRole admin there.
func applierAsAccount(t *testing.T, c *cluster.Cluster, ns string) *apply.Applier {
	t.Helper()
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	require.NoError(t, demo.BindServiceAccount(context.Background(), kube, ns))
	applier, err := apply.New(c.RESTConfig(), apply.Options{ServiceAccount: demo.ApplyServiceAccount})
	require.NoError(t, err)
	return applier
}
