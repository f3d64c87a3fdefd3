package apply_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
)

// A forged inventory (whoever can write the Version's status writes it)
// names objects the namespace's render could never own: another managed
// namespace's objects, cluster-scoped ones, one smuggled in as a
// namespaced entry, and an object of the namespace that only carries the
// generic managed-by label. None is deleted; only what this namespace's own
// apply marked as its own is.
func TestPruneOnlyWhatThisNamespaceOwns(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	a := e.ns
	b := cluster.Namespace(t, cluster.Shared(t))
	syncgates := map[string]string{apply.ManagedByLabel: apply.ManagedByValue}

	// b's own object, applied by syncgate for b.
	_, err := e.applier.Apply(ctx, b, objects(t, configMap(b, "theirs", "1")), nil)
	require.NoError(t, err)
	// Objects that carry the managed-by label without being a's.
	_, err = e.kube.CoreV1().Namespaces().Patch(ctx, b, types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"app.kubernetes.io/managed-by":"syncgate"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "syncgate-test-" + a, Labels: syncgates}}
	_, err = e.kube.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = e.kube.RbacV1().ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{})
	})
	_, err = e.kube.CoreV1().ConfigMaps(a).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "labelled", Namespace: a, Labels: syncgates}}, metav1.CreateOptions{})
	require.NoError(t, err)

	res, err := e.applier.Apply(ctx, a, objects(t, configMap(a, "mine", "1"), configMap(a, "kept", "1")), nil)
	require.NoError(t, err)
	forged := append(res.Inventory,
		apply.Entry{ObjectRef: ref("", "ConfigMap", b, "theirs")},
		apply.Entry{ObjectRef: ref("", "Namespace", "", b)},
		apply.Entry{ObjectRef: ref("", "Namespace", a, b)}, // cluster-scoped, posing as a's
		apply.Entry{ObjectRef: apply.ObjectRef{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: role.Name}},
		apply.Entry{ObjectRef: ref("", "ConfigMap", a, "labelled")},
	)
	res2, err := e.applier.Apply(ctx, a, objects(t, configMap(a, "kept", "1")), forged)
	require.NoError(t, err)
	require.Equal(t, []apply.ObjectRef{ref("", "ConfigMap", a, "mine")}, res2.Pruned)
	why := map[string]string{}
	for _, k := range res2.Kept {
		why[k.Object.String()] = k.Reason
	}
	require.Equal(t, map[string]string{
		"ConfigMap " + b + "/theirs":   "not in namespace " + a,
		"Namespace " + b:               "cluster-scoped objects are not allowed",
		"Namespace " + a + "/" + b:     "cluster-scoped, recorded in a namespace",
		"ClusterRole " + role.Name:     "cluster-scoped objects are not allowed",
		"ConfigMap " + a + "/labelled": "not applied for namespace " + a,
	}, why)
	require.Equal(t, []apply.Entry{{ObjectRef: ref("", "ConfigMap", a, "kept"), Hash: res.Inventory[1].Hash}}, res2.Inventory, "what is kept leaves the inventory")

	// Where cluster-scoped objects are allowed, the live object decides.
	clusterWide, err := apply.New(cluster.Shared(t).RESTConfig(), apply.Options{Prune: true, AllowClusterScoped: true})
	require.NoError(t, err)
	res3, err := clusterWide.Apply(ctx, a, nil, forged[2:])
	require.NoError(t, err)
	require.Empty(t, res3.Pruned)
	require.Contains(t, res3.Kept, apply.KeptObject{Object: ref("", "Namespace", "", b), Reason: "not applied for namespace " + a})

	_, err = e.kube.CoreV1().ConfigMaps(b).Get(ctx, "theirs", metav1.GetOptions{})
	require.NoError(t, err, "another namespace's object is not pruned")
	nsB, err := e.kube.CoreV1().Namespaces().Get(ctx, b, metav1.GetOptions{})
	require.NoError(t, err)
	require.Nil(t, nsB.DeletionTimestamp, "a cluster-scoped object is not pruned")
	_, err = e.kube.RbacV1().ClusterRoles().Get(ctx, role.Name, metav1.GetOptions{})
	require.NoError(t, err, "a cluster-scoped object is not pruned")
	_, err = e.kube.CoreV1().ConfigMaps(a).Get(ctx, "labelled", metav1.GetOptions{})
	require.NoError(t, err, "the managed-by label alone is no claim")
	_, err = e.kube.CoreV1().ConfigMaps(a).Get(ctx, "mine", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "what a's apply created is pruned: %v", err)
}

// Server-side apply takes over an object that already exists (a Secret
// cert-manager made, a StatefulSet's claim). syncgate records that it
// adopted it, keeps the record across later applies and drift corrections,
// and never deletes it when the commit drops it.
func TestAdoptedObjectsAreNeverPruned(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns := e.ns
	existing := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: ns}, StringData: map[string]string{"tls.crt": "issued"}}
	_, err := e.kube.CoreV1().Secrets(ns).Create(ctx, existing, metav1.CreateOptions{})
	require.NoError(t, err)
	secret := func(v string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: tls, namespace: " + ns + "}\nstringData: {note: " + v + "}\n"
	}

	tls := ref("", "Secret", ns, "tls")
	res, err := e.applier.Apply(ctx, ns, objects(t, secret("a"), configMap(ns, "created", "1")), nil)
	require.NoError(t, err)
	require.Equal(t, []apply.ObjectRef{tls}, res.Adopted)
	require.Equal(t, 1.0, objectsCount(t, e.reg, "adopted"))
	// A later change to it and a drift correction keep the record.
	res, err = e.applier.Apply(ctx, ns, objects(t, secret("b"), configMap(ns, "created", "1")), res.Inventory)
	require.NoError(t, err)
	require.Empty(t, res.Adopted, "adopted once")
	require.Equal(t, "true", e.secret(t, "tls").Annotations[apply.AdoptedAnnotation])
	require.NoError(t, e.kube.CoreV1().Secrets(ns).Delete(ctx, "tls", metav1.DeleteOptions{}))
	_, err = e.kube.CoreV1().Secrets(ns).Create(ctx, existing, metav1.CreateOptions{})
	require.NoError(t, err, "someone else makes it again")
	d, err := e.applier.Drift(ctx, ns, objects(t, secret("b"), configMap(ns, "created", "1")), res.Inventory)
	require.NoError(t, err)
	require.Equal(t, []apply.ObjectRef{tls}, d.Adopted, "adopted again")

	res, err = e.applier.Apply(ctx, ns, nil, res.Inventory)
	require.NoError(t, err)
	require.Equal(t, []apply.ObjectRef{ref("", "ConfigMap", ns, "created")}, res.Pruned)
	require.Equal(t, []apply.KeptObject{{Object: tls, Reason: "adopted: it existed before syncgate applied it"}}, res.Kept)
	require.Contains(t, res.Summary(), "1 pruned; not pruned: Secret "+ns+"/tls (adopted: ")
	s := e.secret(t, "tls")
	require.Equal(t, "issued", string(s.Data["tls.crt"]), "an adopted object is not pruned")
	_, err = e.kube.CoreV1().ConfigMaps(ns).Get(ctx, "created", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "what syncgate created is pruned: %v", err)
}

func (e *env) secret(t *testing.T, name string) *corev1.Secret {
	t.Helper()
	s, err := e.kube.CoreV1().Secrets(e.ns).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return s
}
