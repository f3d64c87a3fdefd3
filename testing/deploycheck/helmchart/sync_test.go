package helmchart

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/gitserver"
	"github.com/syncgate/syncgate/testing/kustomizetest"
	"github.com/syncgate/syncgate/testing/proc"
)

// TestChartOnTheControlPlane installs the chart with Helm's install action
// (waiting until every object is current: the Deployment rolls out on the
// simulated nodes), proves its RBAC with the API server's authorizer,
// then runs syncgate as the chart's pod would: the settings of the
// ConfigMap the chart wrote, the pod's variables, and the token of the
// chart's ServiceAccount. One commit is deployed to both managed
// namespaces, as each namespace's own account; one that reaches from
// team-a into team-b is refused by the API server in that account's name.
func TestChartOnTheControlPlane(t *testing.T) {
	c := cluster.Shared(t)
	ctx := context.Background()
	git := gitserver.StartT(t, gitserver.Options{})
	repo := git.CreateRepoT(t, "config")
	rel := install(t, c, releaseName, releaseNS, installValues(t, git.HTTPURL("config")))
	require.Equal(t, "deployed", string(rel.Info.Status))

	t.Run("rbac", func(t *testing.T) {
		checkRBAC(t, c, installation{releaseNS, releaseName, applySA, teamA, teamB})
	})
	// The same proof holds for the kustomize install (the overlay adds
	// a second managed namespace to deploy/base).
	t.Run("rbac of deploy/overlays/example", func(t *testing.T) {
		applier, err := apply.New(c.RESTConfig(), apply.Options{})
		require.NoError(t, err)
		_, err = applier.Apply(ctx, "", kustomizetest.Build(t, "deploy/overlays/example"), nil)
		require.NoError(t, err)
		checkRBAC(t, c, installation{"syncgate", "syncgate", "syncgate", "app", "app-staging"})
	})

	t.Run("sync", func(t *testing.T) {
		kube, err := kubernetes.NewForConfig(c.RESTConfig())
		require.NoError(t, err)
		cm, err := kube.CoreV1().ConfigMaps(releaseNS).Get(ctx, releaseName, metav1.GetOptions{})
		require.NoError(t, err)
		// The chart's pod's credential: its ServiceAccount's token.
		kubeconfig := filepath.Join(t.TempDir(), "pod.kubeconfig")
		_, err = c.ServiceAccountKubeconfig(ctx, releaseNS, releaseName, kubeconfig)
		require.NoError(t, err)
		env := []string{
			"POD_NAMESPACE=" + releaseNS, "POD_NAME=" + releaseName + "-0",
			"CACHE_DIR=" + filepath.Join(t.TempDir(), "cache"),
			"KUBECONFIG=" + kubeconfig,
		}
		for k, v := range cm.Data {
			env = append(env, k+"="+v)
		}

		files := map[string]string{}
		for _, ns := range []string{teamA, teamB} {
			files[ns+"/settings.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {team: " + ns + "}\n"
		}
		files[teamA+"/web.yaml"] = web
		sha := repo.CommitT(t, "both teams", files)
		agent := startSyncgate(t, env)
		for _, ns := range []string{teamA, teamB} {
			code, body := waitFinal(t, agent.URL, sha, ns)
			require.Equal(t, http.StatusOK, code, "%s: %v", ns, body)
			live, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
			require.NoError(t, err)
			require.Equal(t, ns, live.Data["team"])
			require.Equal(t, ns, live.Labels["syncgate.dev/owner"])
		}
		dyn, err := dynamic.NewForConfig(c.RESTConfig())
		require.NoError(t, err)
		v, err := version.NewStore(dyn).Get(ctx, teamA)
		require.NoError(t, err)
		require.Equal(t, sha, v.Status.Deployed)

		escape := repo.CommitT(t, "team-a reaches into team-b", map[string]string{
			teamA + "/escape.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: escape, namespace: " + teamB + "}\ndata: {v: x}\n",
		})
		code, body := waitFinal(t, agent.URL, escape, teamA)
		require.Equal(t, http.StatusConflict, code, "refused: %v", body)
		require.Contains(t, fmt.Sprint(body["reason"]), "system:serviceaccount:"+teamA+":"+applySA)
	})
}

const web = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.example.com/web:1}]
`

// startSyncgate builds cmd/syncgate and runs it with env until the test ends.
func startSyncgate(t *testing.T, env []string) *demo.Agent {
	t.Helper()
	root, err := cluster.RepoRoot()
	require.NoError(t, err)
	began := time.Now()
	bin, err := demo.BuildSyncgate(context.Background(), root, t.TempDir())
	require.NoError(t, err)
	t.Logf("built syncgate in %s", time.Since(began).Round(time.Millisecond))
	addr, err := proc.FreeAddr()
	require.NoError(t, err)
	logPath := filepath.Join(t.TempDir(), "syncgate.log")
	agent, err := demo.StartAgent(context.Background(), bin, addr, logPath, env)
	require.NoError(t, err)
	t.Cleanup(func() {
		agent.Stop(15 * time.Second)
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			s := string(b)
			if len(s) > 6000 {
				s = s[len(s)-6000:]
			}
			t.Logf("syncgate log:\n%s", s)
		}
	})
	return agent
}

// waitFinal asks /wait about sha in namespace until the answer is final
// (before its first fetch syncgate answers 503 at once).
func waitFinal(t *testing.T, url, sha, namespace string) (int, map[string]any) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); {
		resp, err := http.Get(url + "/wait/" + sha + "?timeout=20s&namespace=" + namespace)
		require.NoError(t, err)
		var body map[string]any
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		require.NoError(t, err)
		if resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusServiceUnavailable {
			return resp.StatusCode, body
		}
	}
	t.Fatalf("no final answer for %s in %s", sha, namespace)
	return 0, nil
}
