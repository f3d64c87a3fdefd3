package apply_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
)

// With a ServiceAccount configured, syncgate (here with the admin
// credential, which may do anything) works on namespace a only as a's
// ServiceAccount: what RBAC grants that account is all a commit can do.
func TestApplyAsTheNamespaceServiceAccount(t *testing.T) {
	c := cluster.Shared(t)
	ctx := context.Background()
	a, b, unbound := cluster.Namespace(t, c), cluster.Namespace(t, c), cluster.Namespace(t, c)
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	require.NoError(t, demo.BindServiceAccount(ctx, kube, a))
	applier, err := apply.New(c.RESTConfig(), apply.Options{Prune: true, ServiceAccount: demo.ApplyServiceAccount})
	require.NoError(t, err)
	user := "system:serviceaccount:" + a + ":syncgate"
	require.Equal(t, user, applier.Clients().User(a))

	res, err := applier.Apply(ctx, a, objects(t, configMap(a, "settings", "1"), service(a, "web")), nil)
	require.NoError(t, err, "a's ServiceAccount may write in a")

	t.Run("another namespace", func(t *testing.T) {
		_, err := applier.Apply(ctx, a, objects(t, configMap(a, "settings", "1"), configMap(b, "escape", "1")), res.Inventory)
		require.True(t, apierrors.IsForbidden(err), "%v", err)
		require.ErrorContains(t, err, user)
		_, err = kube.CoreV1().ConfigMaps(b).Get(ctx, "escape", metav1.GetOptions{})
		require.True(t, apierrors.IsNotFound(err), "%v", err)
	})
	t.Run("a kind admin may not write", func(t *testing.T) {
		quota := "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q, namespace: " + a + "}\nspec: {hard: {pods: \"1\"}}\n"
		_, err := applier.Apply(ctx, a, objects(t, configMap(a, "settings", "1"), quota), res.Inventory)
		require.True(t, apierrors.IsForbidden(err), "%v", err)
	})
	t.Run("a namespace without a bound ServiceAccount", func(t *testing.T) {
		_, err := applier.Apply(ctx, unbound, objects(t, configMap(unbound, "settings", "1")), nil)
		require.True(t, apierrors.IsForbidden(err), "%v", err)
		require.ErrorContains(t, err, "system:serviceaccount:"+unbound+":syncgate")
	})
	t.Run("no namespace", func(t *testing.T) {
		_, err := applier.Apply(ctx, "", objects(t, configMap(a, "settings", "1")), nil)
		require.ErrorContains(t, err, "no namespace to act as")
	})
	t.Run("drift and owned", func(t *testing.T) {
		require.NoError(t, kube.CoreV1().ConfigMaps(a).Delete(ctx, "settings", metav1.DeleteOptions{}))
		d, err := applier.Drift(ctx, a, objects(t, configMap(a, "settings", "1"), service(a, "web")), res.Inventory)
		require.NoError(t, err)
		require.Equal(t, []apply.ObjectRef{ref("", "ConfigMap", a, "settings")}, d.Applied)
		owned, err := applier.Owned(ctx, a)
		require.NoError(t, err, "kinds a's ServiceAccount may not list are skipped")
		var names []string
		for _, e := range owned {
			names = append(names, e.Kind+"/"+e.Name)
		}
		require.ElementsMatch(t, []string{"ConfigMap/settings", "Service/web"}, names)
	})
	t.Run("prune", func(t *testing.T) {
		// b's object, in a namespace a's objects may name: a's
		// ServiceAccount may not read it, so it is not a's to delete.
		_, err := kube.CoreV1().ConfigMaps(b).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "theirs",
			Labels: map[string]string{apply.ManagedByLabel: apply.ManagedByValue, apply.OwnerLabel: a}}}, metav1.CreateOptions{})
		require.NoError(t, err)
		allowing, err := apply.New(c.RESTConfig(), apply.Options{Prune: true, ServiceAccount: "syncgate", AllowNamespaces: []string{b}})
		require.NoError(t, err)
		forged := append(res.Inventory, apply.Entry{ObjectRef: ref("", "ConfigMap", b, "theirs")})
		res2, err := allowing.Apply(ctx, a, objects(t, service(a, "web")), forged)
		require.NoError(t, err)
		require.Equal(t, []apply.ObjectRef{ref("", "ConfigMap", a, "settings")}, res2.Pruned)
		require.Equal(t, []apply.KeptObject{{Object: ref("", "ConfigMap", b, "theirs"), Reason: "not readable as namespace " + a}}, res2.Kept)
		_, err = kube.CoreV1().ConfigMaps(b).Get(ctx, "theirs", metav1.GetOptions{})
		require.NoError(t, err)
	})
}
