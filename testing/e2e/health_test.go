package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
)

// certificates are a Certificate-like kind whose health kstatus cannot
// tell: no standard conditions, an Issued condition and a failure field.
var certificates = schema.GroupVersionResource{Group: "e2e.syncgate.dev", Version: "v1", Resource: "certificates"}

const certificateCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: certificates.e2e.syncgate.dev
spec:
  group: e2e.syncgate.dev
  scope: Namespaced
  names: {plural: certificates, singular: certificate, kind: Certificate}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`

const certificateRules = `- apiVersion: e2e.syncgate.dev/v1
  kind: Certificate
  current: status.conditions.exists(c, c.type == 'Issued' && c.status == 'True')
  failed: has(status.failure)
`

func certificate(name string) string {
	return fmt.Sprintf("apiVersion: e2e.syncgate.dev/v1\nkind: Certificate\nmetadata:\n  name: %s\nspec:\n  dnsNames: [%s.example.com]\n", name, name)
}

// installCertificates installs the CRD (once is enough: it may exist) and
// lets the namespace's applying ServiceAccount write Certificates.
func installCertificates(t *testing.T, e *env) {
	t.Helper()
	ctx := t.Context()
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte(certificateCRD), &u.Object))
	a, err := apply.New(e.c.RESTConfig(), apply.Options{})
	require.NoError(t, err)
	_, err = a.Apply(ctx, "", []*unstructured.Unstructured{u}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := e.dyn.Resource(certificates).Namespace(e.ns).List(ctx, metav1.ListOptions{})
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "the CRD is served")
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "certificates"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{certificates.Group}, Resources: []string{"certificates"}, Verbs: []string{"*"}}}}
	_, err = e.kube.RbacV1().Roles(e.ns).Create(ctx, role, metav1.CreateOptions{})
	require.NoError(t, err)
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "certificates"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "certificates"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: demo.ApplyServiceAccount, Namespace: e.ns}}}
	_, err = e.kube.RbacV1().RoleBindings(e.ns).Create(ctx, rb, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, cluster.AwaitAllowed(ctx, e.kube, cluster.ServiceAccountReview(e.ns, demo.ApplyServiceAccount,
		authorizationv1.ResourceAttributes{Verb: "patch", Group: certificates.Group, Resource: "certificates", Namespace: e.ns})))
}

// setStatus writes a Certificate's status, as its controller would.
func setStatus(t *testing.T, e *env, name string, st map[string]any) {
	t.Helper()
	require.Eventually(t, func() bool {
		u, err := e.dyn.Resource(certificates).Namespace(e.ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		u.Object["status"] = st
		_, err = e.dyn.Resource(certificates).Namespace(e.ns).UpdateStatus(context.Background(), u, metav1.UpdateOptions{})
		return err == nil // a conflict or a miss is tried again
	}, 30*time.Second, 50*time.Millisecond, "status of %s written", name)
}

// A custom resource judged by a CEL health rule: deployed only when its
// condition turns, failed by its failure expression, both on watch events.
func TestCustomHealthRules(t *testing.T) {
	e := newEnv(t, "HEALTH_RULES="+certificateRules)
	installCertificates(t, e)
	ns := e.ns

	good := e.commit("certificate", map[string]string{ns + "/cert.yaml": certificate("web-tls")})
	e.start()
	require.Eventually(t, func() bool { return stateOf(e, good) == status.RollingOut }, 60*time.Second, 50*time.Millisecond, "applied, then waited for")
	// The syncer can write the Version before the gateway has listed the
	// Versions; until then /wait answers 503, retry.
	e.awaitReady()
	code, body := e.wait(good, "timeout=1s&namespace="+ns)
	require.Equal(t, http.StatusRequestTimeout, code, "not deployed before its condition turns: %v", body)
	require.Contains(t, scrape(t, e), `syncgate_syncer_commit_started_timestamp_seconds{namespace="`+ns+`"}`, "a commit in flight, for SyncgateCommitNotFinal")
	setStatus(t, e, "web-tls", map[string]any{"conditions": []any{map[string]any{"type": "Issued", "status": "True"}}})
	code, body = e.waitFinal(good)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "deployed", body["state"])

	bad := e.commit("a certificate the issuer refuses", map[string]string{ns + "/api.yaml": certificate("api-tls")})
	require.Eventually(t, func() bool { return stateOf(e, bad) == status.RollingOut }, 60*time.Second, 50*time.Millisecond)
	setStatus(t, e, "api-tls", map[string]any{"failure": "the issuer refused the order", "conditions": []any{map[string]any{"type": "Issued", "status": "False"}}})
	code, body = e.waitFinal(bad)
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body["reason"], "Certificate")
	require.Contains(t, body["reason"], "api-tls")
	require.Contains(t, body["reason"], "health rule: has(status.failure)")
	shown, err := yaml.Marshal(e.version().Status.Find(bad))
	require.NoError(t, err)
	t.Logf("the failed commit in the Version:\n%s", shown)
}

// stateOf is sha's state in the namespace's Version, "" while there is
// none; safe off the test goroutine.
func stateOf(e *env, sha string) status.State {
	v, err := version.NewStore(e.dyn).Get(context.Background(), e.ns)
	if err != nil || v == nil {
		return ""
	}
	if c := v.Status.Find(sha); c != nil {
		return c.State
	}
	return ""
}

// scrape reads syncgate's own metrics from /metrics.
func scrape(t *testing.T, e *env) string {
	t.Helper()
	resp, err := http.Get(e.url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "syncgate_") || strings.HasPrefix(line, "# HELP syncgate_") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
