package e2e

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/kustomizetest"
)

// TestDeployManifestsAreSufficientAndConfining applies deploy/base for real,
// then runs syncgate with its ServiceAccount's token (not the admin
// credential) through a full sync and report, and shows the same token
// refused outside what it was given: syncgate's own identity writes no
// object of a managed namespace, it only acts as the namespace's
// ServiceAccount.
func TestDeployManifestsAreSufficientAndConfining(t *testing.T) {
	c := cluster.Shared(t)
	ctx := context.Background()
	installKustomization(t, c, "deploy/base")
	forgetVersions(t, c, "app")
	kubeconfig, saConfig := tokenFor(t, c, "syncgate", "syncgate")

	e := newEnv(t, "KUBECONFIG="+kubeconfig, "MANAGED_NAMESPACES=app", "POD_NAMESPACE=syncgate")
	e.ns = "app"
	sha := e.commit("app config", map[string]string{
		"app/deploy.yaml":    deployment("web", "registry.example.com/web:1", ""),
		"app/svc.yaml":       svc,
		"app/configmap.yaml": cm,
		"app/hpa.yaml":       hpa,
	})
	e.start()
	code, body := e.waitFinal(sha)
	require.Equal(t, http.StatusOK, code, body)
	v := e.version()
	require.Equal(t, sha, v.Status.Deployed)
	require.Eventually(t, func() bool { return len(e.version().Status.Owed) == 0 }, 15e9, 20e6, "reports delivered")
	// Prune works with the granted verbs too.
	sha = e.commit("drop hpa", map[string]string{"app/hpa.yaml": ""})
	code, _ = e.waitFinal(sha)
	require.Equal(t, http.StatusOK, code)

	// Confined: the same identity cannot touch another namespace, nor write
	// the managed namespace's objects as itself.
	sa, err := kubernetes.NewForConfig(saConfig)
	require.NoError(t, err)
	_, err = sa.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "escape"}}, metav1.CreateOptions{})
	require.True(t, apierrors.IsForbidden(err), "%v", err)
	_, err = sa.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "%v", err)
	_, err = sa.CoreV1().ConfigMaps("app").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "as-itself"}}, metav1.CreateOptions{})
	require.True(t, apierrors.IsForbidden(err), "syncgate writes a namespace's objects only as its ServiceAccount: %v", err)
}

// installKustomization builds dir (relative to the repo root) and applies
// it with the admin credential.
func installKustomization(t *testing.T, c *cluster.Cluster, dir string) {
	t.Helper()
	objs := kustomizetest.Build(t, dir)
	admin, err := apply.New(c.RESTConfig(), apply.Options{})
	require.NoError(t, err)
	_, err = admin.Apply(context.Background(), "", objs, nil)
	require.NoError(t, err, "%s applies to a real API server", dir)
}

// tokenFor issues a token of ServiceAccount namespace/name, as the kubelet
// would mount it, and returns a kubeconfig file and a client config that
// use it.
func tokenFor(t *testing.T, c *cluster.Cluster, namespace, name string) (string, *rest.Config) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".kubeconfig")
	cfg, err := c.ServiceAccountKubeconfig(context.Background(), namespace, name, path)
	require.NoError(t, err)
	return path, cfg
}

// forgetVersions deletes the Versions of namespaces the deploy manifests
// create, now and when the test ends, so that tests sharing those
// namespaces do not inherit each other's history and inventory.
func forgetVersions(t *testing.T, c *cluster.Cluster, namespaces ...string) {
	t.Helper()
	forget := func() {
		dyn, err := dynamicFor(c)
		if err != nil {
			return
		}
		for _, ns := range namespaces {
			_ = dyn.Resource(version.Resource).Namespace(ns).Delete(context.Background(), version.Name, metav1.DeleteOptions{})
		}
	}
	forget()
	t.Cleanup(forget)
}
