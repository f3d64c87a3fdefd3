package e2e

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/testing/forge"
)

// deploymentsFake is what the deployment tests read from either forge.
type deploymentsFake interface {
	Deployments(repo, sha, environment string) []forge.Deployment
	FailDeploymentStates(n int, fault forge.Fault)
}

// forgeUnderTest is one forge fake with what syncgate needs to report to it.
type forgeUnderTest struct {
	name    string
	fake    deploymentsFake
	repo    string   // owner/name or project path, also the config repo's path
	env     []string // syncgate's settings for it
	success string   // the forge's word for each phase
	failure string
	started []string // states of a deployment before its outcome
	// carried are the states of a carried commit's deployment that the
	// carrier deployed, after those it had before: no success that would
	// take the environment from the carrier.
	carried  []string
	inactive string // what an earlier deployment shows once a newer one is live
	// overtaken is what a deployment ends in when a newer commit was
	// applied before its own commit was.
	overtaken string
}

func githubUnderTest(t *testing.T) forgeUnderTest {
	gh := forge.NewGitHub("ghp_e2e", "acme/config")
	t.Cleanup(gh.Close)
	return forgeUnderTest{name: "github", fake: gh, repo: "acme/config",
		env:     []string{"GITHUB_API_URL=" + gh.APIURL(), "GITHUB_TOKEN=ghp_e2e"},
		success: "success", failure: "failure", started: []string{"queued", "in_progress"}, inactive: "inactive",
		carried: []string{"success", "inactive"}, overtaken: "inactive"}
}

func gitlabUnderTest(t *testing.T) forgeUnderTest {
	gl := forge.NewGitLab("glpat-e2e", "platform/config")
	t.Cleanup(gl.Close)
	return forgeUnderTest{name: "gitlab", fake: gl, repo: "platform/config",
		env:     []string{"GITLAB_URL=" + gl.URL(), "GITLAB_TOKEN=glpat-e2e"},
		success: "success", failure: "failed", started: []string{"created", "running"}, carried: []string{"canceled"},
		overtaken: "canceled"}
}

// deploymentStates waits until the one deployment of sha ends in final and
// returns the states it went through.
func deploymentStates(t *testing.T, f forgeUnderTest, sha, environment, final string) []string {
	t.Helper()
	var got []forge.Deployment
	require.Eventually(t, func() bool {
		got = f.fake.Deployments(f.repo, sha, environment)
		return len(got) > 0 && got[len(got)-1].Latest().State == final
	}, 30*time.Second, 20*time.Millisecond, "%s: deployment of %s to %s ends %s; have %+v", f.name, status.ShortSHA(sha), environment, final, got)
	require.Len(t, got, 1, "one deployment per commit and environment")
	return got[0].States()
}

// Each commit's fate shows as the deployment of its environment, on each
// forge: deployed, failed, a batched pair, a commit superseded while it
// rolled out, one superseded before it applied; and a restart while a
// deployment is half made makes none twice.
func TestDeploymentsOnTheForges(t *testing.T) {
	for _, mk := range []func(*testing.T) forgeUnderTest{githubUnderTest, gitlabUnderTest} {
		f := mk(t)
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, append(f.env, "PUBLIC_URL=https://syncgate.example.com")...)
			repo, err := e.git.CreateRepo(f.repo)
			require.NoError(t, err)
			e.repo = repo
			ns := e.ns
			environment := cluster1 + "/" + ns
			file := ns + "/deploy.yaml"

			good := e.commit("good", map[string]string{file: deployment("web", "registry.example.com/web:1", "")})
			e.start()
			code, _ := e.waitFinal(good)
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, append(slices.Clone(f.started), f.success), deploymentStates(t, f, good, environment, f.success))

			bad := e.commit("bad", map[string]string{file: deployment("web", "registry.example.com/web:2", "syncgate.dev/test-fail: crashloop")})
			code, _ = e.waitFinal(bad)
			require.Equal(t, http.StatusConflict, code)
			require.Equal(t, append(slices.Clone(f.started), f.failure), deploymentStates(t, f, bad, environment, f.failure))

			// Two commits pushed while syncgate is down: the older is carried.
			e.stop()
			older := e.commit("batched 1", map[string]string{file: deployment("web", "registry.example.com/web:3", "")})
			newer := e.commit("batched 2", map[string]string{file: deployment("web", "registry.example.com/web:4", "")})
			e.start()
			code, _ = e.waitFinal(newer)
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, append(slices.Clone(f.started), f.success), deploymentStates(t, f, newer, environment, f.success))
			require.Equal(t, f.carried, deploymentStates(t, f, older, environment, f.carried[len(f.carried)-1]))
			if f.inactive != "" {
				require.Equal(t, append(slices.Clone(f.started), f.success, f.inactive), deploymentStates(t, f, good, environment, f.inactive),
					"the newer deployment took the environment")
			}

			// A commit still rolling out when a newer one is applied.
			slow := e.commit("slow", map[string]string{file: deployment("web", "registry.example.com/web:5", `syncgate.dev/test-ready-after: "20s"`)})
			require.Eventually(t, func() bool {
				c := findCommit(e, slow)
				return c != nil && c.State == status.RollingOut
			}, 60*time.Second, 20*time.Millisecond)
			quick := e.commit("quick", map[string]string{file: deployment("web", "registry.example.com/web:6", "")})
			code, _ = e.waitFinal(quick)
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, append(slices.Clone(f.started), f.success), deploymentStates(t, f, quick, environment, f.success))
			require.Equal(t, append(slices.Clone(f.started), f.carried...), deploymentStates(t, f, slow, environment, f.carried[len(f.carried)-1]),
				"superseded while rolling out: its carrier's outcome")

			// A commit the API server cannot take yet (an admission webhook
			// it cannot reach) is queued when a newer one is applied: it
			// was overtaken before it applied.
			blockLabelled(t, e, "e2e-blocked")
			stuck := e.commit("stuck", map[string]string{
				file:                 deployment("web", "registry.example.com/web:8", ""),
				ns + "/blocked.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: blocked\n  labels: {e2e-blocked: \"true\"}\n",
			})
			require.Eventually(t, func() bool {
				got := f.fake.Deployments(f.repo, stuck, environment)
				return len(got) == 1 && got[0].Latest().State == f.started[0]
			}, 60*time.Second, 20*time.Millisecond, "%s: the stuck commit's deployment is queued", f.name)
			next := e.commit("next", map[string]string{file: deployment("web", "registry.example.com/web:9", ""), ns + "/blocked.yaml": ""})
			code, _ = e.waitFinal(next)
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, append(slices.Clone(f.started), f.success), deploymentStates(t, f, next, environment, f.success))
			require.Equal(t, []string{f.started[0], f.overtaken}, deploymentStates(t, f, stuck, environment, f.overtaken),
				"superseded before it applied")
			if f.name == "github" { // GitLab deployments carry no description
				require.Equal(t, "superseded by "+status.ShortSHA(next)+" before it applied",
					f.fake.Deployments(f.repo, stuck, environment)[0].Latest().Description)
			}

			// syncgate dies after making a deployment and before its state
			// lands; the next process finishes it and makes no other.
			f.fake.FailDeploymentStates(1000, forge.Fault{Status: 502, Body: `{"message":"Server Error"}`})
			halfway := e.commit("halfway", map[string]string{file: deployment("web", "registry.example.com/web:7", "")})
			require.Eventually(t, func() bool { return len(f.fake.Deployments(f.repo, halfway, environment)) == 1 }, 60*time.Second, 20*time.Millisecond)
			e.stop(true)
			f.fake.FailDeploymentStates(0, forge.Fault{})
			e.start()
			code, _ = e.waitFinal(halfway)
			require.Equal(t, http.StatusOK, code)
			states := deploymentStates(t, f, halfway, environment, f.success)
			require.Equal(t, f.success, states[len(states)-1])
			require.Eventually(t, func() bool { return len(e.version().Status.Owed) == 0 }, 30*time.Second, 20*time.Millisecond)
			for _, sha := range []string{good, bad, older, newer, slow, quick, stuck, next, halfway} {
				require.Len(t, f.fake.Deployments(f.repo, sha, ""), 1, "one deployment for %s", status.ShortSHA(sha))
			}
		})
	}
}

// blockLabelled makes the API server refuse to judge objects of e's
// namespace that carry label, as when an admission webhook cannot be
// reached: their dry run and apply fail with a 500, which syncgate retries.
func blockLabelled(t *testing.T, e *env, label string) {
	t.Helper()
	fail, none := admissionv1.Fail, admissionv1.SideEffectClassNone
	url, timeout := "https://127.0.0.1:1/unreachable", int32(1)
	cfg := &admissionv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "block-" + e.ns},
		Webhooks: []admissionv1.ValidatingWebhook{{
			Name:                    "block.e2e.syncgate.dev",
			ClientConfig:            admissionv1.WebhookClientConfig{URL: &url},
			Rules:                   []admissionv1.RuleWithOperations{{Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update}, Rule: admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": e.ns}},
			ObjectSelector:          &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: label, Operator: metav1.LabelSelectorOpExists}}},
		}},
	}
	hooks := e.kube.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	_, err := hooks.Create(context.Background(), cfg, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = hooks.Delete(context.Background(), cfg.Name, metav1.DeleteOptions{}) })
	probe := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "probe", Labels: map[string]string{label: "true"}}}
	require.Eventually(t, func() bool { // the API server takes the webhook up
		_, err := e.kube.CoreV1().ConfigMaps(e.ns).Create(context.Background(), probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err != nil
	}, 30*time.Second, 20*time.Millisecond)
}
