package helmchart

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// everything turns on every optional part of the chart.
const everything = `
ingress: {enabled: true, className: nginx, tlsSecretName: syncgate-tls}
metrics:
  serviceMonitor: {enabled: true, labels: {release: prometheus}}
  prometheusRule: {enabled: true}
secrets: {requireWaitToken: true}
git: {sshSecret: syncgate-ssh}
`

func TestChartLints(t *testing.T) {
	for name, vals := range map[string]string{"defaults": "", "everything": everything} {
		t.Run(name, func(t *testing.T) {
			loadChart(t) // quiets the loader's log
			res := lint.RunAll(chartDir(t), values(t, vals), "syncgate")
			for _, m := range res.Messages {
				t.Log(m)
				require.Less(t, m.Severity, support.WarningSev, "helm lint: %s", m)
			}
		})
	}
}

// TestSchemaRefusesBadValues: a bad value stops `helm install` and
// `helm template` with a message naming it.
func TestSchemaRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		name, values string
		says         []string
	}{
		{"replicas not a number", `replicaCount: two`, []string{"/replicaCount", "want integer"}},
		{"a misspelt key", `replicas: 3`, []string{"additional properties 'replicas' not allowed"}},
		{"a credential in settings", `settings: {GIT_TOKEN: ghp_x}`, []string{`settings.GIT_TOKEN is a credential: put it in the Secret "syncgate-credentials" (secrets.name), never in values`}},
		{"a derived setting", `settings: {MANAGED_NAMESPACES: a}`, []string{"settings.MANAGED_NAMESPACES is set by the chart from managedNamespaces"}},
		{"no config repo", `settings: {CONFIG_REPO: null}`, []string{"/settings", "CONFIG_REPO"}},
		{"cluster name not a DNS label", `settings: {CLUSTER_NAME: Prod_EU}`, []string{"/settings/CLUSTER_NAME", "does not match pattern"}},
		{"unknown log format", `settings: {LOG_FORMAT: xml}`, []string{"/settings/LOG_FORMAT", "json", "text"}},
		{"no namespace may apply", `settings: {APPLY_NAMESPACES_AT_ONCE: "0"}`, []string{"/settings/APPLY_NAMESPACES_AT_ONCE", "does not match pattern"}},
		{"no namespace may apply, as a number", `settings: {APPLY_NAMESPACES_AT_ONCE: 0}`, []string{"/settings/APPLY_NAMESPACES_AT_ONCE", "minimum"}},
		{"lower-case setting name", `settings: {config_repo: x}`, []string{"invalid propertyName 'config_repo'", "^[A-Z][A-Z0-9_]*$"}},
		{"no managed namespace", `managedNamespaces: []`, []string{"/managedNamespaces", "minItems"}},
		{"namespace name", `managedNamespaces: [{name: App}]`, []string{"/managedNamespaces/0/name", "does not match pattern"}},
		{"apply role kind", `applyRole: {kind: ClusterRoleBinding, name: admin}`, []string{"/applyRole/kind"}},
		{"secret data without create", `secrets: {data: {GIT_TOKEN: x}}`, []string{"secrets.data is used only with secrets.create=true"}},
		{"release namespace managed", `managedNamespaces: [{name: syncgate}]`, []string{`"syncgate" is the release's own namespace`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, "syncgate", "syncgate", values(t, tc.values))
			require.Error(t, err)
			t.Log(err)
			for _, s := range tc.says {
				require.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestSecretsAreReferencedNotTemplated(t *testing.T) {
	objs := mustRender(t, nil)
	for _, o := range objs {
		require.NotEqual(t, "Secret", o.GetKind(), "no Secret from default values")
	}
	dep := find(objs, "Deployment", "syncgate", "syncgate")
	from, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	envFrom := from[0].(map[string]any)["envFrom"].([]any)
	require.Contains(t, envFrom, map[string]any{"secretRef": map[string]any{"name": "syncgate-credentials", "optional": true}})

	// Only when asked.
	objs = mustRender(t, values(t, `secrets: {name: creds, create: true, data: {GIT_TOKEN: t0k3n}}`))
	s := find(objs, "Secret", "syncgate", "creds")
	require.NotNil(t, s)
	require.Equal(t, "t0k3n", s.Object["stringData"].(map[string]any)["GIT_TOKEN"])
}

func TestOptionalParts(t *testing.T) {
	objs := mustRender(t, values(t, everything))

	ing := find(objs, "Ingress", "syncgate", "syncgate")
	require.NotNil(t, ing)
	var paths []string
	rules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
	for _, p := range rules[0].(map[string]any)["http"].(map[string]any)["paths"].([]any) {
		paths = append(paths, p.(map[string]any)["path"].(string))
	}
	require.Equal(t, []string{"/wait", "/status", "/api", "/hooks"}, paths, "/metrics is not published")
	tls, _, _ := unstructured.NestedSlice(ing.Object, "spec", "tls")
	require.Equal(t, "syncgate-tls", tls[0].(map[string]any)["secretName"])

	sm := find(objs, "ServiceMonitor", "syncgate", "syncgate")
	require.NotNil(t, sm)
	require.Equal(t, "prometheus", sm.GetLabels()["release"])
	metrics := find(objs, "Service", "syncgate", "syncgate-metrics")
	require.NotNil(t, metrics, "the ServiceMonitor's Service")
	sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	for k, v := range sel {
		require.Equal(t, v, metrics.GetLabels()[k], "the ServiceMonitor selects the metrics Service")
	}

	// The PrometheusRule is deploy/monitoring's, not a copy that can age.
	rule := find(objs, "PrometheusRule", "syncgate", "syncgate")
	require.NotNil(t, rule)
	b, err := os.ReadFile(filepath.Join(chartDir(t), "..", "..", "monitoring", "prometheusrule.yaml"))
	require.NoError(t, err)
	var want map[string]any
	require.NoError(t, yaml.Unmarshal(b, &want))
	require.Equal(t, want["spec"], rule.Object["spec"])
	require.Contains(t, rule.Object["spec"].(map[string]any)["groups"].([]any)[0].(map[string]any)["rules"].([]any)[0].(map[string]any)["annotations"].(map[string]any)["summary"],
		"{{ $labels.namespace }}", "Prometheus's templates are left to Prometheus")

	cm := find(objs, "ConfigMap", "syncgate", "syncgate")
	require.Equal(t, "/etc/syncgate/ssh/id_ed25519", cm.Object["data"].(map[string]any)["GIT_SSH_KEY"])
	dep := find(objs, "Deployment", "syncgate", "syncgate")
	vols, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "volumes")
	require.Contains(t, vols, map[string]any{"name": "ssh", "secret": map[string]any{"secretName": "syncgate-ssh", "defaultMode": int64(0o400)}})
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	require.Contains(t, containers[0].(map[string]any)["env"], map[string]any{"name": "WAIT_TOKEN",
		"valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "syncgate-credentials", "key": "WAIT_TOKEN"}}})
}

// TestNamesFollowTheRelease: another release name, namespace, apply
// account and namespaces keep every reference consistent.
func TestNamesFollowTheRelease(t *testing.T) {
	objs, err := render(t, "gate", "gitops", values(t, `
applyServiceAccount: deployer
managedNamespaces: [{name: team-a}, {name: team-b, create: false, applyRole: {kind: Role, name: config-kinds}}]
sops: {secretName: ""}
crds: {keep: false}
`))
	require.NoError(t, err)
	cr := find(objs, "ClusterRole", "", "gate-namespace")
	require.NotNil(t, cr)
	rules, _, _ := unstructured.NestedSlice(cr.Object, "rules")
	require.Equal(t, []any{"deployer"}, rules[0].(map[string]any)["resourceNames"], "impersonates the apply account alone")
	cm := find(objs, "ConfigMap", "gitops", "gate")
	data := cm.Object["data"].(map[string]any)
	require.Equal(t, "team-a,team-b", data["MANAGED_NAMESPACES"])
	require.Equal(t, "deployer", data["APPLY_SERVICE_ACCOUNT"])
	require.NotContains(t, data, "SOPS_SECRET")
	require.Nil(t, find(objs, "Role", "gitops", "gate-decryption-keys"), "no keys, no right to read them")
	require.NotNil(t, find(objs, "Namespace", "", "team-a"))
	require.Nil(t, find(objs, "Namespace", "", "team-b"), "create: false")
	for _, ns := range []string{"team-a", "team-b"} {
		require.NotNil(t, find(objs, "ServiceAccount", ns, "deployer"))
		bind := find(objs, "RoleBinding", ns, "gate")
		require.Equal(t, map[string]any{"kind": "ServiceAccount", "name": "gate", "namespace": "gitops"}, bind.Object["subjects"].([]any)[0])
		require.Equal(t, "gate-namespace", bind.Object["roleRef"].(map[string]any)["name"])
	}
	apply := find(objs, "RoleBinding", "team-b", "gate-apply")
	require.Equal(t, map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "config-kinds"}, apply.Object["roleRef"])
	crd := find(objs, "CustomResourceDefinition", "", "versions.syncgate.dev")
	require.NotContains(t, crd.GetAnnotations(), "helm.sh/resource-policy")

	objs, err = render(t, "gate", "gitops", values(t, `crds: {install: false}`))
	require.NoError(t, err)
	require.Nil(t, find(objs, "CustomResourceDefinition", "", "versions.syncgate.dev"))
}

// TestShardsGetTheirLeases: with settings.SHARDS above 1 syncgate may list
// the Leases of its namespace and take each shard's Lease and each
// replica's slot; with one shard only the leader's Lease.
func TestShardsGetTheirLeases(t *testing.T) {
	leaseRules := func(objs []*unstructured.Unstructured) (list bool, names []any) {
		role := find(objs, "Role", "syncgate", "syncgate-leader-election")
		require.NotNil(t, role)
		rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
		for _, r := range rules {
			rule := r.(map[string]any)
			if rule["resources"].([]any)[0] != "leases" {
				continue
			}
			if slices.Contains(rule["verbs"].([]any), any("list")) {
				list = true
			}
			if n, ok := rule["resourceNames"].([]any); ok {
				names = append(names, n...)
			}
		}
		return list, names
	}

	list, names := leaseRules(mustRender(t, values(t, ``)))
	require.False(t, list)
	require.Equal(t, []any{"syncgate-leader"}, names)

	list, names = leaseRules(mustRender(t, values(t, `settings: {SHARDS: "3", LEADER_ELECT: "true"}`)))
	require.True(t, list)
	require.ElementsMatch(t, []any{"syncgate-leader", "syncgate-shard-0", "syncgate-shard-1", "syncgate-shard-2",
		"syncgate-replica-0", "syncgate-replica-1", "syncgate-replica-2"}, names)
}
