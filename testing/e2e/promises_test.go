package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Every commit gets one true, final answer, in the situations that used
// to leave one without: a refusal the API server wraps in HTTP 500, a
// commit with nothing to change after a restart, a prune-only commit after
// a refused one, a rollback by force-push.
func TestEveryCommitGetsAFinalAnswer(t *testing.T) {
	e := newEnv(t)
	ns := e.ns
	ctx := context.Background()
	base := e.commit("base", map[string]string{
		ns + "/deploy.yaml":    deployment("web", "registry.example.com/web:1", ""),
		ns + "/configmap.yaml": cm,
	})
	e.start()
	code, body := e.waitFinal(base)
	require.Equal(t, http.StatusOK, code, body)

	t.Run("refusal wrapped in HTTP 500", func(t *testing.T) {
		bad := e.commit("replicas as a word", map[string]string{
			ns + "/deploy.yaml": strings.Replace(deployment("web", "registry.example.com/web:2", ""), "replicas: 2", `replicas: "three"`, 1),
		})
		start := time.Now()
		code, body := e.waitFinal(bad)
		require.Equal(t, http.StatusConflict, code, body)
		require.Contains(t, body["reason"], "replicas")
		require.Less(t, time.Since(start), 30*time.Second, "refused at once, not retried until the budget runs out")
		dep, err := e.kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, "registry.example.com/web:1", dep.Spec.Template.Spec.Containers[0].Image, "the cluster was left as it was")

		fixed := e.commit("fix", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", "")})
		code, body = e.waitFinal(fixed)
		require.Equal(t, http.StatusOK, code, body)
		code, body = e.wait(bad, "namespace="+ns)
		require.Equal(t, http.StatusConflict, code, "a commit that failed on its own keeps its verdict: %v", body)
	})

	t.Run("nothing to change, after a restart", func(t *testing.T) {
		e.stop()
		same := e.commit("comment only", map[string]string{
			ns + "/deploy.yaml": "# rolled by the platform team\n" + deployment("web", "registry.example.com/web:1", ""),
		})
		e.start()
		code, body := e.waitFinal(same)
		require.Equal(t, http.StatusOK, code, body)
	})

	t.Run("prune only, after a refused commit", func(t *testing.T) {
		bad := e.commit("broken yaml", map[string]string{ns + "/broken.yaml": "kind: [\n"})
		code, body := e.waitFinal(bad)
		require.Equal(t, http.StatusConflict, code, body)
		prune := e.commit("drop the config map and the broken file", map[string]string{ns + "/broken.yaml": "", ns + "/configmap.yaml": ""})
		code, body = e.waitFinal(prune)
		require.Equal(t, http.StatusOK, code, body)
		_, err := e.kube.CoreV1().ConfigMaps(ns).Get(ctx, "web-config", metav1.GetOptions{})
		require.True(t, apierrors.IsNotFound(err), "pruned")
	})

	t.Run("rollback by force-push", func(t *testing.T) {
		good, err := e.repo.Head()
		require.NoError(t, err)
		newer := e.commit("v2", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:2", "")})
		code, body := e.waitFinal(newer)
		require.Equal(t, http.StatusOK, code, body)

		require.NoError(t, e.repo.ResetHard(good))
		require.Eventually(t, func() bool { return e.version().Status.Applied == good }, 60*time.Second, 50*time.Millisecond, "the older head is applied again")
		code, body = e.waitFinal(good)
		require.Equal(t, http.StatusOK, code, body)
		dep, err := e.kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, "registry.example.com/web:1", dep.Spec.Template.Spec.Containers[0].Image, "the cluster runs the head")
		code, _ = e.wait(newer, "namespace="+ns)
		require.Equal(t, http.StatusOK, code, "the rolled-back commit keeps its own verdict")
	})
}

// A head found by /wait's own fetch is applied at once, not at the next
// poll.
func TestWaitFetchStartsTheSync(t *testing.T) {
	e := newEnv(t, "GIT_SYNC_INTERVAL=1h")
	ns := e.ns
	base := e.commit("base", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", "")})
	e.start()
	code, body := e.waitFinal(base)
	require.Equal(t, http.StatusOK, code, body)

	next := e.commit("next", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:2", "")})
	code, out := e.runCLI("wait", next, "--url", e.url, "--namespace", ns, "--timeout", "60s")
	require.Equal(t, 0, code, out)
}
