package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/cluster"
)

// The example overlay's two namespaces, run by syncgate with its own
// ServiceAccount's token. A commit for "app" whose render was fooled into
// naming "app-staging" is refused by the API server (app's ServiceAccount
// has no rights there), and an inventory forged into app's Version, naming
// app-staging's objects and cluster-scoped ones, deletes nothing. Namespace
// users cannot forge it in the first place.
func TestNamespacesAreConfinedToTheirServiceAccounts(t *testing.T) {
	c := cluster.Shared(t)
	ctx := context.Background()
	const a, b = "app", "app-staging"
	installKustomization(t, c, "deploy/overlays/example")
	forgetVersions(t, c, a, b)
	kubeconfig, _ := tokenFor(t, c, "syncgate", "syncgate")

	// ALLOW_NAMESPACES stands for a render that lets app's objects name
	// app-staging: confinement must not rest on render alone.
	e := newEnv(t, "KUBECONFIG="+kubeconfig, "MANAGED_NAMESPACES="+a+","+b, "POD_NAMESPACE=syncgate", "ALLOW_NAMESPACES="+b)
	e.ns = a
	settings := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {v: " + v + "}\n"
	}
	first := e.commit("both namespaces", map[string]string{a + "/cm.yaml": settings("a1"), b + "/cm.yaml": settings("b1")})
	e.start()
	for _, ns := range []string{a, b} {
		code, body := e.waitFinalIn(ns, first)
		require.Equal(t, http.StatusOK, code, "%s: %v", ns, body)
	}

	escape := e.commit("app reaches into app-staging", map[string]string{
		a + "/escape.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: escape, namespace: " + b + "}\ndata: {v: x}\n",
	})
	code, body := e.waitFinalIn(a, escape)
	require.Equal(t, http.StatusConflict, code, "refused by the API server: %v", body)
	require.Contains(t, body["reason"], "system:serviceaccount:app:syncgate")
	_, err := e.kube.CoreV1().ConfigMaps(b).Get(ctx, "escape", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "nothing written in app-staging: %v", err)

	// Forge app's inventory (as only a cluster admin can): app-staging's
	// ConfigMap, app-staging itself, and a ClusterRole of deploy/, each
	// carrying syncgate's managed-by label.
	_, err = version.NewStore(e.dyn).UpdateStatus(ctx, a, func(st *version.VersionStatus) error {
		st.Inventory = append(st.Inventory,
			version.InventoryEntry{Version: "v1", Kind: "ConfigMap", Namespace: b, Name: "settings"},
			version.InventoryEntry{Version: "v1", Kind: "Namespace", Name: b},
			version.InventoryEntry{Version: "v1", Kind: "Namespace", Namespace: a, Name: b},
			version.InventoryEntry{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: "syncgate-namespace"},
		)
		return nil
	})
	require.NoError(t, err)
	next := e.commit("app moves on", map[string]string{a + "/escape.yaml": "", a + "/cm.yaml": settings("a2")})
	code, body = e.waitFinalIn(a, next)
	require.Equal(t, http.StatusOK, code, body)
	live, err := e.kube.CoreV1().ConfigMaps(b).Get(ctx, "settings", metav1.GetOptions{})
	require.NoError(t, err, "app-staging's object survives app's prune")
	require.Equal(t, "b1", live.Data["v"])
	nsB, err := e.kube.CoreV1().Namespaces().Get(ctx, b, metav1.GetOptions{})
	require.NoError(t, err)
	require.Nil(t, nsB.DeletionTimestamp, "app-staging is not being deleted")
	_, err = e.kube.RbacV1().ClusterRoles().Get(ctx, "syncgate-namespace", metav1.GetOptions{})
	require.NoError(t, err)
	for _, en := range e.version().Status.Inventory {
		require.Equal(t, a, en.Namespace, "the forged entries are dropped: %+v", en)
	}

	// Who may write a Version's status: not a namespace admin (ClusterRole
	// admin does not aggregate Versions), and not the ServiceAccount
	// syncgate acts as, which a namespace admin may impersonate.
	alice := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "alice", Namespace: a}}
	_, err = e.kube.CoreV1().ServiceAccounts(a).Create(ctx, alice, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	admin := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-admin", Namespace: a},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "admin"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "alice", Namespace: a}}}
	_, err = e.kube.RbacV1().RoleBindings(a).Create(ctx, admin, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	// The binding in force, or alice's refusals below say nothing: the
	// authorizer learns of it through informers of its own.
	require.NoError(t, cluster.AwaitAllowed(ctx, e.kube, cluster.ServiceAccountReview(a, "alice",
		authorizationv1.ResourceAttributes{Verb: "impersonate", Resource: "serviceaccounts", Name: "syncgate", Namespace: a})))
	v, err := e.dyn.Resource(version.Resource).Namespace(a).Get(ctx, version.Name, metav1.GetOptions{})
	require.NoError(t, err)
	for _, who := range []string{"alice", "syncgate"} {
		_, cfg := tokenFor(t, c, a, who)
		_, err := updateStatusAs(ctx, cfg, v)
		require.True(t, apierrors.IsForbidden(err), "%s cannot write app's Version status: %v", who, err)
		// Namespace admins may act as app's ServiceAccount (ClusterRole
		// edit grants it): it must hold no more than they do.
		imp := rest.CopyConfig(cfg)
		imp.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + a + ":syncgate"}
		if who == "alice" {
			require.Eventually(t, func() bool {
				_, err := e.kube.CoreV1().ConfigMaps(a).Get(ctx, "settings", metav1.GetOptions{})
				return err == nil && canRead(ctx, imp, a)
			}, 10*time.Second, 50*time.Millisecond, "alice acts as app's ServiceAccount")
		}
		_, err = updateStatusAs(ctx, imp, v)
		require.True(t, apierrors.IsForbidden(err), "%v", err)
	}
}

// canRead: cfg's identity may read ConfigMap settings of namespace.
func canRead(ctx context.Context, cfg *rest.Config, namespace string) bool {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return false
	}
	_, err = kube.CoreV1().ConfigMaps(namespace).Get(ctx, "settings", metav1.GetOptions{})
	return err == nil
}

func updateStatusAs(ctx context.Context, cfg *rest.Config, v *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	forged := v.DeepCopy()
	_ = unstructured.SetNestedField(forged.Object, "0000000000000000000000000000000000000000", "status", "deployed")
	return dyn.Resource(version.Resource).Namespace(v.GetNamespace()).UpdateStatus(ctx, forged, metav1.UpdateOptions{})
}

func dynamicFor(c *cluster.Cluster) (dynamic.Interface, error) {
	return dynamic.NewForConfig(c.RESTConfig())
}

// waitFinalIn re-asks /wait about namespace until a final answer.
func (e *env) waitFinalIn(namespace, sha string) (int, map[string]any) {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		code, body := e.wait(sha, "timeout=20s&namespace="+namespace)
		if code != http.StatusRequestTimeout && code != http.StatusServiceUnavailable {
			return code, body
		}
	}
	e.t.Fatalf("no final answer for %s in %s", sha, namespace)
	return 0, nil
}
