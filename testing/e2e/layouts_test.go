package e2e

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A kustomize overlay in the cluster directory over a shared base, then a
// force-push that rewrites the branch.
func TestKustomizeOverlayAndForcePush(t *testing.T) {
	e := newEnv(t)
	ns := e.ns
	ctx := context.Background()
	first := e.commit("overlay", map[string]string{
		"base/web/kustomization.yaml": "resources: [deploy.yaml]\n",
		"base/web/deploy.yaml":        deployment("web", "registry.example.com/web:1", ""),
		"e2e/" + ns + "/kustomization.yaml": "resources: [../../base/web]\nnamePrefix: e2e-\n" +
			"images: [{name: registry.example.com/web, newTag: \"7\"}]\nconfigMapGenerator: [{name: env, literals: [MODE=e2e]}]\n",
	})
	e.start()
	code, body := e.waitFinal(first)
	require.Equal(t, http.StatusOK, code, body)
	dep, err := e.kube.AppsV1().Deployments(ns).Get(ctx, "e2e-web", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "registry.example.com/web:7", dep.Spec.Template.Spec.Containers[0].Image)

	second := e.commit("tag 8", map[string]string{"e2e/" + ns + "/kustomization.yaml": "resources: [../../base/web]\nnamePrefix: e2e-\n" +
		"images: [{name: registry.example.com/web, newTag: \"8\"}]\n"})
	code, _ = e.waitFinal(second)
	require.Equal(t, http.StatusOK, code)

	// Rewrite history: back to the first commit, then a new one on top.
	require.NoError(t, e.repo.ResetHard(first))
	rewritten := e.commit("tag 9", map[string]string{"e2e/" + ns + "/kustomization.yaml": "resources: [../../base/web]\nnamePrefix: e2e-\n" +
		"images: [{name: registry.example.com/web, newTag: \"9\"}]\n"})
	code, body = e.waitFinal(rewritten)
	require.Equal(t, http.StatusOK, code, body)
	dep, err = e.kube.AppsV1().Deployments(ns).Get(ctx, "e2e-web", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "registry.example.com/web:9", dep.Spec.Template.Spec.Containers[0].Image)
	_, err = e.kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	code, _ = e.wait(second, "namespace="+ns)
	require.Equal(t, http.StatusOK, code, "dropped by the force-push, it keeps the verdict it reached: one final answer per commit")
	code, _ = e.wait("0123456789abcdef0123456789abcdef01234567", "namespace="+ns)
	require.Equal(t, http.StatusNotFound, code, "a commit neither on the branch nor recorded is unknown")
}
