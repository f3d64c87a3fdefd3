package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
)

// TestDeployManifestsAreSufficientAndConfining applies deploy/base for real,
// then runs syncgate with its ServiceAccount's token (not the admin
// credential) through a full sync and report, and shows the same token
// refused outside the managed namespace.
func TestDeployManifestsAreSufficientAndConfining(t *testing.T) {
	c := cluster.Shared(t)
	ctx := context.Background()
	root, err := cluster.RepoRoot()
	require.NoError(t, err)
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(root, "deploy", "base"))
	require.NoError(t, err)
	var objs []*unstructured.Unstructured
	for _, r := range res.Resources() {
		m, err := r.Map()
		require.NoError(t, err)
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	admin, err := apply.New(c.RESTConfig(), apply.Options{})
	require.NoError(t, err)
	_, err = admin.Apply(ctx, "", objs, nil)
	require.NoError(t, err, "deploy/base applies to a real API server")

	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	tok, err := kube.CoreV1().ServiceAccounts("syncgate").CreateToken(ctx, "syncgate", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	require.NoError(t, err)
	saConfig := &rest.Config{Host: c.RESTConfig().Host, BearerToken: tok.Status.Token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	kubeconfig := filepath.Join(t.TempDir(), "sa.kubeconfig")
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: saConfig.Host, InsecureSkipTLSVerify: true}
	kc.AuthInfos["syncgate"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	kc.Contexts["sa"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "syncgate"}
	kc.CurrentContext = "sa"
	require.NoError(t, clientcmd.WriteToFile(*kc, kubeconfig))

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

	// Confined: the same identity cannot touch another namespace.
	sa, err := kubernetes.NewForConfig(saConfig)
	require.NoError(t, err)
	_, err = sa.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "escape"}}, metav1.CreateOptions{})
	require.True(t, apierrors.IsForbidden(err), "%v", err)
	_, err = sa.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "%v", err)
	_ = os.Remove(kubeconfig)
}
