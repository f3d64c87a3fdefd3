package apply_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/metricstest"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{})) }

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
      containers:
      - name: app
        image: %q
        resources: {requests: {cpu: "0.5", memory: 64Mi}}
`, name, ns, name, name, image)
}

func configMap(ns, name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s}\ndata: {v: %q}\n", name, ns, value)
}

func service(ns, name string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec: {selector: {app: %s}, ports: [{port: 80}]}\n", name, ns, name)
}

type env struct {
	ns      string
	applier *apply.Applier
	counter *apply.CountingTransport
	kube    kubernetes.Interface
	dyn     dynamic.Interface
	reg     *prometheus.Registry
}

func setup(t *testing.T) *env {
	t.Helper()
	c := cluster.Shared(t)
	e := &env{ns: cluster.Namespace(t, c), counter: &apply.CountingTransport{}, reg: prometheus.NewRegistry()}
	var err error
	e.applier, err = apply.New(e.counter.Wrap(c.RESTConfig()), apply.Options{Prune: true, Metrics: e.reg})
	require.NoError(t, err)
	e.kube, err = kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	e.dyn, err = dynamic.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	return e
}

func ref(group, kind, ns, name string) apply.ObjectRef {
	return apply.ObjectRef{Group: group, Version: "v1", Kind: kind, Namespace: ns, Name: name}
}

func TestApplyThenNoOpResyncWritesNothing(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns := e.ns
	objs := objects(t,
		deployment(ns, "web", "registry.example.com/web:1"),
		service(ns, "web"),
		configMap(ns, "settings", "a"),
		// No namespace: it goes to the one applied.
		"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"+
			"spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 4}\n",
	)
	res, err := e.applier.Apply(ctx, ns, objs, nil)
	require.NoError(t, err)
	require.Len(t, res.Applied, 4)
	require.Len(t, res.Inventory, 4)
	for _, en := range res.Inventory {
		require.Equal(t, ns, en.Namespace)
		require.Len(t, en.Hash, 32)
	}
	dep, err := e.kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, apply.ManagedByValue, dep.Labels[apply.ManagedByLabel])
	require.Contains(t, fmt.Sprint(dep.ManagedFields), "syncgate")
	_, err = e.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)

	e.counter.Reset()
	res2, err := e.applier.Apply(ctx, ns, objs, res.Inventory)
	require.NoError(t, err)
	require.Empty(t, res2.Applied)
	require.Len(t, res2.Unchanged, 4)
	require.Equal(t, res.Inventory, res2.Inventory)
	counts := e.counter.Counts()
	require.Zero(t, counts.Mutating, "a no-op resync makes no mutating request")
	require.Zero(t, counts.DryRun)

	// One object changes: only it is sent, dry run and apply.
	e.counter.Reset()
	objs[2] = objects(t, configMap(ns, "settings", "b"))[0]
	res3, err := e.applier.Apply(ctx, ns, objs, res2.Inventory)
	require.NoError(t, err)
	require.Equal(t, []apply.ObjectRef{ref("", "ConfigMap", ns, "settings")}, res3.Applied)
	counts = e.counter.Counts()
	require.EqualValues(t, 1, counts.Mutating)
	require.EqualValues(t, 1, counts.DryRun)
	require.EqualValues(t, 2, counts.ByVerb["PATCH"])

	require.Equal(t, 5.0, objectsCount(t, e.reg, "applied"))
	require.Equal(t, 7.0, objectsCount(t, e.reg, "unchanged"))
	mfs, err := e.reg.Gather()
	require.NoError(t, err)
	var observed uint64
	for _, mf := range mfs {
		if mf.GetName() == "syncgate_apply_duration_seconds" {
			for _, m := range mf.GetMetric() {
				observed += m.GetHistogram().GetSampleCount()
			}
		}
	}
	require.EqualValues(t, 3, observed, "one observation per Apply")
}

// objectsCount reads syncgate_apply_objects_total{result}.
func objectsCount(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	m, _ := metricstest.Find(t, reg, "syncgate_apply_objects_total", "result", result)
	return m.GetCounter().GetValue()
}

func TestInvalidCommitWritesNothing(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns := e.ns
	objs := objects(t,
		configMap(ns, "first", "1"),
		deployment(ns, "bad", "x"),
		configMap(ns, "Not_A_Name", "2"),
		configMap(ns, "second", "2"),
		"apiVersion: example.com/v1\nkind: Unknown\nmetadata: {name: u}\n",
	)
	// A Deployment whose selector does not match its template is invalid.
	require.NoError(t, unstructured.SetNestedStringMap(objs[1].Object, map[string]string{"app": "other"}, "spec", "selector", "matchLabels"))
	res, err := e.applier.Apply(ctx, ns, objs, nil)
	require.Nil(t, res)
	var verr *apply.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Len(t, verr.Objects, 3, "every refusal is listed: %v", err)
	msg := err.Error()
	require.Contains(t, msg, "Deployment "+ns+"/bad: ")
	require.Contains(t, msg, "selector")
	require.Contains(t, msg, "ConfigMap "+ns+"/Not_A_Name: ")
	require.Contains(t, msg, "Unknown u: ")
	require.Zero(t, e.counter.Counts().Mutating)
	for _, name := range []string{"first", "second"} {
		_, err := e.kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		require.True(t, apierrors.IsNotFound(err), "nothing written: %s", name)
	}
	require.Equal(t, 3.0, objectsCount(t, e.reg, "refused"))
}

func TestPruneOnlyWhatSyncgateCreated(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns := e.ns
	res, err := e.applier.Apply(ctx, ns, objects(t, configMap(ns, "keep", "1"), configMap(ns, "drop", "1"), service(ns, "drop")), nil)
	require.NoError(t, err)

	// An object in the inventory that is not (or no longer) labelled as
	// syncgate's is not deleted: someone else's that happens to share a
	// name, or one taken over by hand.
	inv := append(res.Inventory, apply.Entry{ObjectRef: ref("", "ConfigMap", ns, "foreign")})
	_, err = e.kube.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "foreign", Namespace: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
	// Gone already: fine.
	inv = append(inv, apply.Entry{ObjectRef: ref("", "Secret", ns, "gone")})
	// Of a kind the cluster no longer serves (its CRD was deleted): gone
	// with it, and discovery is asked once for the kind, not per object.
	for i := range 20 {
		inv = append(inv, apply.Entry{ObjectRef: ref("widgets.example.com", "Widget", ns, fmt.Sprintf("w%d", i))})
	}

	e.counter.Reset()
	res2, err := e.applier.Apply(ctx, ns, objects(t, configMap(ns, "keep", "1")), inv)
	require.NoError(t, err)
	require.LessOrEqual(t, e.counter.Counts().ByVerb["GET"], int64(12), "discovery once per unknown kind: %+v", e.counter.Counts())
	require.Equal(t, []apply.ObjectRef{ref("", "ConfigMap", ns, "drop"), ref("", "Service", ns, "drop")}, res2.Pruned)
	require.Len(t, res2.Inventory, 1)
	_, err = e.kube.CoreV1().ConfigMaps(ns).Get(ctx, "drop", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err))
	_, err = e.kube.CoreV1().ConfigMaps(ns).Get(ctx, "foreign", metav1.GetOptions{})
	require.NoError(t, err)
	_, err = e.kube.CoreV1().ConfigMaps(ns).Get(ctx, "keep", metav1.GetOptions{})
	require.NoError(t, err)

	// Without Prune nothing is deleted.
	keeper, err := apply.New(cluster.Shared(t).RESTConfig(), apply.Options{})
	require.NoError(t, err)
	res3, err := keeper.Apply(ctx, ns, nil, res2.Inventory)
	require.NoError(t, err)
	require.Empty(t, res3.Pruned)
	_, err = e.kube.CoreV1().ConfigMaps(ns).Get(ctx, "keep", metav1.GetOptions{})
	require.NoError(t, err)
}

func TestDriftReappliesOnlyWhatDrifted(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns := e.ns
	objs := objects(t,
		deployment(ns, "web", "registry.example.com/web:1"),
		configMap(ns, "settings", "a"),
		configMap(ns, "other", "a"),
		service(ns, "web"),
		"apiVersion: v1\nkind: Secret\nmetadata: {name: token, namespace: "+ns+"}\nstringData: {token: s3cret}\n",
	)
	res, err := e.applier.Apply(ctx, ns, objs, nil)
	require.NoError(t, err)

	e.counter.Reset()
	d, err := e.applier.Drift(ctx, ns, objs, res.Inventory)
	require.NoError(t, err)
	require.Empty(t, d.Applied, "nothing drifted yet: defaults, quantities and stringData are not drift")
	require.Len(t, d.Unchanged, 5)
	require.Zero(t, e.counter.Counts().Mutating)

	// Scaled by hand, as kubectl scale would; a ConfigMap deleted by hand;
	// a label added by hand to another (not drift: syncgate does not own it).
	_, err = e.kube.AppsV1().Deployments(ns).Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"replicas":5}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, e.kube.CoreV1().ConfigMaps(ns).Delete(ctx, "settings", metav1.DeleteOptions{}))
	_, err = e.kube.CoreV1().ConfigMaps(ns).Patch(ctx, "other", types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"a"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)

	e.counter.Reset()
	d, err = e.applier.Drift(ctx, ns, objs, res.Inventory)
	require.NoError(t, err)
	require.Equal(t, []apply.ObjectRef{ref("", "ConfigMap", ns, "settings"), ref("apps", "Deployment", ns, "web")}, d.Applied)
	require.EqualValues(t, 2, e.counter.Counts().Mutating)
	dep, err := e.kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	require.EqualValues(t, 2, *dep.Spec.Replicas)
	_, err = e.kube.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, 2.0, objectsCount(t, e.reg, "drifted"))
}

func TestCRDAndItsObjectsInOneCommit(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns := e.ns
	group := ns + ".example.com"
	def := crd(group, "Widget", "{type: object, properties: {spec: {type: object, properties: {size: {type: integer, maximum: 10}}}}}")
	deleteCRDAtCleanup(t, e, "widgets."+group)
	widget := func(size int) string {
		return fmt.Sprintf("apiVersion: %s/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: %d}\n", group, size)
	}
	// The Widget is listed first: the CRD is applied first all the same.
	res, err := e.applier.Apply(ctx, ns, objects(t, widget(3), def), nil)
	require.NoError(t, err)
	require.Len(t, res.Applied, 2)
	gvr := schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}
	w, err := e.dyn.Resource(gvr).Namespace(ns).Get(ctx, "w", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, apply.ManagedByValue, w.GetLabels()[apply.ManagedByLabel])

	// The new kind now maps through discovery.
	namespaced, err := e.applier.Scoper().IsNamespaced(schema.GroupVersionKind{Group: group, Version: "v1", Kind: "Widget"})
	require.NoError(t, err)
	require.True(t, namespaced)

	// An invalid Widget is refused by the dry run, against the CRD's schema.
	_, err = e.applier.Apply(ctx, ns, objects(t, widget(30), def), res.Inventory)
	require.ErrorContains(t, err, "Widget "+ns+"/w: ")
	require.ErrorContains(t, err, "spec.size")

	// Dropping both prunes the Widget; the CRD only where cluster-scoped
	// objects are allowed, and then after the Widget.
	res2, err := e.applier.Apply(ctx, ns, nil, res.Inventory)
	require.NoError(t, err)
	require.Equal(t, []apply.ObjectRef{{Group: group, Version: "v1", Kind: "Widget", Namespace: ns, Name: "w"}}, res2.Pruned)
	crdRef := apply.ObjectRef{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition", Name: "widgets." + group}
	require.Equal(t, []apply.KeptObject{{Object: crdRef, Reason: "cluster-scoped objects are not allowed"}}, res2.Kept)
	allowed, err := apply.New(cluster.Shared(t).RESTConfig(), apply.Options{Prune: true, AllowClusterScoped: true})
	require.NoError(t, err)
	res3, err := allowed.Apply(ctx, ns, nil, res.Inventory)
	require.NoError(t, err)
	require.Equal(t, []apply.ObjectRef{crdRef}, res3.Pruned)
}

func TestFailedApplyReportsWhatIsLive(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns := e.ns
	// A quota the dry run cannot enforce across objects: each Service
	// passes on its own, the second real one is refused. It holds Secrets
	// at none too: the API server's quota admission reads quotas through
	// an informer of its own, and a GET that sees the status the quota
	// controller wrote says nothing of what that informer has. A Secret
	// refused does.
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: ns},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourceServices: resource.MustParse("1"),
			corev1.ResourceSecrets:  resource.MustParse("0"),
		}}}
	_, err := e.kube.CoreV1().ResourceQuotas(ns).Create(ctx, quota, metav1.CreateOptions{})
	require.NoError(t, err)
	probe := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "probe"}}
	require.Eventually(t, func() bool {
		_, err := e.kube.CoreV1().Secrets(ns).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "exceeded quota")
	}, 30*time.Second, 50*time.Millisecond, "the API server enforces the quota")

	prev := []apply.Entry{{ObjectRef: ref("", "ConfigMap", ns, "old"), Hash: "abc"}}
	res, err := e.applier.Apply(ctx, ns, objects(t, service(ns, "a"), service(ns, "b")), prev)
	require.ErrorContains(t, err, "apply Service "+ns+"/")
	require.ErrorContains(t, err, "exceeded quota")
	require.NotNil(t, res)
	require.Len(t, res.Applied, 1)
	require.Len(t, res.Inventory, 2, "the previous entry and the one written")
	require.Equal(t, prev[0], res.Inventory[0])
	require.Equal(t, res.Applied[0], res.Inventory[1].ObjectRef)
}
