package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/s3marker"
)

const (
	svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n"
	cm  = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config}\ndata: {MODE: prod}\n"
	hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n" +
		"spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 4}\n"
)

func TestCommitLifecycle(t *testing.T) {
	e := newEnv(t)
	ns := e.ns
	ctx := context.Background()
	first := e.commit("first", map[string]string{
		ns + "/deploy.yaml":    deployment("web", "registry.example.com/web:1", ""),
		ns + "/svc.yaml":       svc,
		ns + "/configmap.yaml": cm,
		ns + "/hpa.yaml":       hpa,
	})
	e.start()

	t.Run("happy path", func(t *testing.T) {
		code, body := e.waitFinal(first)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "deployed", body["state"])
		v := e.version()
		require.Equal(t, first, v.Status.Applied)
		require.Equal(t, first, v.Status.Deployed)
		require.Len(t, v.Status.Inventory, 4)
		dep, err := e.kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		require.EqualValues(t, 2, dep.Status.ReadyReplicas)
	})

	t.Run("the status pages", func(t *testing.T) {
		page := e.page("/")
		require.Contains(t, page, `<section class="ns" id="ns-`+ns+`">`)
		require.Contains(t, page, `<a class="badge deployed" href="/status/`+first+`">deployed</a>`)
		require.Contains(t, page, `<td class="subject">first</td>`)
		page = e.page("/status/" + first[:8])
		require.Contains(t, page, "<code>"+first+"</code>: <span class=\"badge deployed\">deployed</span>")
	})

	t.Run("image bump through the ci-examples script and syncgate wait", func(t *testing.T) {
		bump := e.commit("pin", map[string]string{
			"e2e/" + ns + "/images_path":    "registry.example.com/team\n",
			"e2e/" + ns + "/web.deployment": "1.0.0\n",
		})
		code, out := e.runCLI("wait", bump, "--url", e.url, "--namespace", ns, "--timeout", "90s")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "deployed")

		sha := bumpImage(t, e, "2.0.0")
		code, out = e.runCLI("wait", sha[:8], "--url", e.url, "--timeout", "90s")
		require.Equal(t, 0, code, out)
		dep, err := e.kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, "registry.example.com/team/web:2.0.0", dep.Spec.Template.Spec.Containers[0].Image)

		// The S3 markers of the original operator, and the result object,
		// delivered from the outbox right after the Version records the outcome.
		for _, key := range []string{"e2e/" + ns + "/web/" + sha, "e2e/" + ns + "/web/" + sha[:7], s3marker.ResultKey("", "e2e", ns, sha)} {
			require.Eventually(t, func() bool {
				_, err := s3marker.Read(ctx, e.s3.Client(), "markers", key)
				return err == nil
			}, 10*time.Second, 20*time.Millisecond, key)
		}
		b, err := s3marker.Read(ctx, e.s3.Client(), "markers", s3marker.ResultKey("", "e2e", ns, sha))
		require.NoError(t, err)
		var res s3marker.Result
		require.NoError(t, json.Unmarshal(b, &res))
		require.Equal(t, status.Deployed, res.State)

		// The same answer waiting on S3 instead of the gateway.
		code, out = e.runCLI("wait", sha, "--s3", "s3://markers", "--s3-endpoint", e.s3.Endpoint(), "--cluster", "e2e", "--namespace", ns, "--timeout", "30s")
		require.Equal(t, 0, code, out)
	})

	t.Run("crashloop fails fast with the reason", func(t *testing.T) {
		bad := e.commit("crash", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", "syncgate.dev/test-fail: crashloop")})
		code, out := e.runCLI("wait", bad, "--url", e.url, "--namespace", ns, "--timeout", "90s")
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "CrashLoopBackOff")
		code, body := e.wait(bad, "namespace="+ns)
		require.Equal(t, http.StatusConflict, code)
		require.Contains(t, body["reason"], "CrashLoopBackOff")
		require.False(t, e.version().Status.Deployed == bad)
	})

	t.Run("invalid commits change nothing", func(t *testing.T) {
		before, err := e.kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		cases := map[string]map[string]string{
			"invalid yaml":      {ns + "/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: [\n"},
			"foreign namespace": {ns + "/deploy.yaml": deployment("web", "registry.example.com/web:9", ""), ns + "/other.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: kube-system}\n"},
			"cluster scoped":    {ns + "/deploy.yaml": deployment("web", "registry.example.com/web:9", ""), ns + "/other.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: sneaky}\n"},
		}
		reasons := map[string]string{"invalid yaml": "invalid YAML", "foreign namespace": "is not managed", "cluster scoped": "cluster-scoped"}
		for name, files := range cases {
			sha := e.commit(name, files)
			code, body := e.waitFinal(sha)
			require.Equal(t, http.StatusConflict, code, name)
			require.Contains(t, body["reason"], reasons[name], name)
			e.commit("undo "+name, map[string]string{ns + "/other.yaml": ""})
		}
		after, err := e.kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, before.Generation, after.Generation, "the cluster was left as it was")
		_, err = e.kube.RbacV1().ClusterRoles().Get(ctx, "sneaky", metav1.GetOptions{})
		require.True(t, apierrors.IsNotFound(err))
	})

	t.Run("removed file is pruned", func(t *testing.T) {
		fixed := e.commit("fix and drop the hpa", map[string]string{
			ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", ""),
			ns + "/hpa.yaml":    "",
		})
		code, body := e.waitFinal(fixed)
		require.Equal(t, http.StatusOK, code, body)
		_, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "web", metav1.GetOptions{})
		require.True(t, apierrors.IsNotFound(err), "pruned")
	})

	t.Run("back-to-back commits: the older is carried by the newer", func(t *testing.T) {
		older := e.commit("slow one", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:5", `syncgate.dev/test-ready-after: "20s"`)})
		newer := e.commit("quick one", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:6", "")})
		code, body := e.waitFinal(older)
		require.Equal(t, http.StatusOK, code, body)
		code, _ = e.waitFinal(newer)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, newer, e.version().Status.Deployed)
	})

	t.Run("unknown and malformed", func(t *testing.T) {
		code, _ := e.wait("0123456789abcdef0123456789abcdef01234567", "")
		require.Equal(t, http.StatusNotFound, code)
		code, _ = e.wait("nothex!", "")
		require.Equal(t, http.StatusBadRequest, code)
		code, out := e.runCLI("wait", "0123456789abcdef0123456789abcdef01234567", "--url", e.url, "--timeout", "10s")
		require.Equal(t, 3, code, out)
	})

	t.Run("markers list", func(t *testing.T) {
		out, err := e.s3.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("markers"), Prefix: aws.String("e2e/" + ns + "/_result/")})
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(out.Contents), 5, "a result object for every final commit")
	})
}
