package apply_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
)

func TestMain(m *testing.M) { cluster.Main(m, cluster.Options{}) }

func objects(t *testing.T, docs ...string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, d := range docs {
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal([]byte(d), &u.Object))
		out = append(out, u)
	}
	return out
}

func deployment(ns, name, image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: %s}
spec:
  replicas: 2
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers: [{name: app, image: %q}]
`, name, ns, name, name, image)
}

func configMap(ns, name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s}\ndata: {v: %q}\n", name, ns, value)
}

func setup(t *testing.T) (string, *apply.Applier, *apply.Counter, kubernetes.Interface) {
	t.Helper()
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	counter := &apply.Counter{}
	a, err := apply.New(counter.Wrap(c.RESTConfig()), apply.Options{Prune: true})
	require.NoError(t, err)
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	return ns, a, counter, kube
}

func TestApplyThenNoOpResyncWritesNothing(t *testing.T) {
	ns, a, counter, kube := setup(t)
	ctx := context.Background()
	objs := objects(t,
		deployment(ns, "web", "registry.example.com/web:1"),
		"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: "+ns+"}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n",
		configMap(ns, "settings", "a"),
		"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: "+ns+"}\n"+
			"spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 4}\n",
	)
	res, err := a.Apply(ctx, ns, objs, nil)
	require.NoError(t, err)
	require.Len(t, res.Applied, 4)
	require.Len(t, res.Inventory, 4)
	dep, err := kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, apply.ManagedByValue, dep.Labels[apply.ManagedByLabel])

	counter.Reset()
	res2, err := a.Apply(ctx, ns, objs, res.Inventory)
	require.NoError(t, err)
	require.Empty(t, res2.Applied)
	require.Len(t, res2.Unchanged, 4)
	require.Zero(t, counter.Mutating.Load(), "a no-op resync makes no mutating request")
	require.Zero(t, counter.DryRun.Load())

	// One object changes: only it is sent.
	counter.Reset()
	objs[2] = objects(t, configMap(ns, "settings", "b"))[0]
	res3, err := a.Apply(ctx, ns, objs, res2.Inventory)
	require.NoError(t, err)
	require.Len(t, res3.Applied, 1)
	require.EqualValues(t, 1, counter.Mutating.Load())
	require.EqualValues(t, 1, counter.DryRun.Load())
}

func TestInvalidCommitWritesNothing(t *testing.T) {
	ns, a, counter, kube := setup(t)
	ctx := context.Background()
	objs := objects(t,
		configMap(ns, "first", "1"),
		deployment(ns, "bad", "x"),
		configMap(ns, "second", "2"),
	)
	// A Deployment whose selector does not match its template is invalid.
	require.NoError(t, unstructured.SetNestedStringMap(objs[1].Object, map[string]string{"app": "other"}, "spec", "selector", "matchLabels"))
	_, err := a.Apply(ctx, ns, objs, nil)
	var verr *apply.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Len(t, verr.Objects, 1)
	require.Contains(t, err.Error(), "Deployment "+ns+"/bad")
	require.Contains(t, err.Error(), "selector")
	require.Zero(t, counter.Mutating.Load())
	for _, name := range []string{"first", "second"} {
		_, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		require.True(t, apierrors.IsNotFound(err), "nothing written: %s", name)
	}
}

func TestPruneOnlyWhatSyncgateCreated(t *testing.T) {
	ns, a, _, kube := setup(t)
	ctx := context.Background()
	res, err := a.Apply(ctx, ns, objects(t, configMap(ns, "keep", "1"), configMap(ns, "drop", "1")), nil)
	require.NoError(t, err)

	// Someone else's object that happens to be in the inventory is not deleted.
	inv := append(res.Inventory, apply.Entry{ObjectRef: apply.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "foreign"}})
	_, err = kube.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "foreign", Namespace: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)

	res2, err := a.Apply(ctx, ns, objects(t, configMap(ns, "keep", "1")), inv)
	require.NoError(t, err)
	require.Equal(t, []apply.ObjectRef{{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "drop"}}, res2.Pruned)
	_, err = kube.CoreV1().ConfigMaps(ns).Get(ctx, "drop", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err))
	_, err = kube.CoreV1().ConfigMaps(ns).Get(ctx, "foreign", metav1.GetOptions{})
	require.NoError(t, err)
}

func TestDriftReappliesOnlyWhatDrifted(t *testing.T) {
	ns, a, counter, kube := setup(t)
	ctx := context.Background()
	objs := objects(t, deployment(ns, "web", "registry.example.com/web:1"), configMap(ns, "settings", "a"))
	res, err := a.Apply(ctx, ns, objs, nil)
	require.NoError(t, err)

	counter.Reset()
	d, err := a.Drift(ctx, ns, objs, res.Inventory)
	require.NoError(t, err)
	require.Empty(t, d.Applied, "nothing drifted yet")
	require.Zero(t, counter.Mutating.Load())

	// Scaled by hand, as kubectl scale would.
	_, err = kube.AppsV1().Deployments(ns).Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"replicas":5}}`), metav1.PatchOptions{})
	require.NoError(t, err)

	counter.Reset()
	d, err = a.Drift(ctx, ns, objs, res.Inventory)
	require.NoError(t, err)
	require.Equal(t, []apply.ObjectRef{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web"}}, d.Applied)
	require.EqualValues(t, 1, counter.Mutating.Load())
	dep, err := kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	require.EqualValues(t, 2, *dep.Spec.Replicas)
}
