package healthrule_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/healthrule"
)

const certRules = `
- apiVersion: example.dev/v1
  kind: Certificate
  current: status.conditions.filter(c, c.type == 'Ready').all(c, c.status == 'True')
  failed: status.conditions.exists(c, c.type == 'Ready' && c.status == 'False' && c.reason == 'Failed')
`

func cert(conds ...map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.dev/v1", "kind": "Certificate",
		"metadata": map[string]any{"name": "web", "namespace": "a"},
		"spec":     map[string]any{"dnsNames": []any{"web.example.dev"}},
	}}
	if conds != nil {
		list := make([]any, len(conds))
		for i, c := range conds {
			list[i] = c
		}
		u.Object["status"] = map[string]any{"conditions": list}
	}
	return u
}

func TestCertificateRule(t *testing.T) {
	rules, err := healthrule.Parse(certRules)
	require.NoError(t, err)
	require.Equal(t, 1, rules.Len())

	cases := []struct {
		name string
		obj  *unstructured.Unstructured
		want healthrule.Status
	}{
		{"ready", cert(map[string]any{"type": "Ready", "status": "True"}), healthrule.Current},
		{"issuing", cert(map[string]any{"type": "Ready", "status": "False", "reason": "Issuing"}), healthrule.InProgress},
		{"failed", cert(map[string]any{"type": "Ready", "status": "False", "reason": "Failed"}), healthrule.Failed},
		{"no status yet", cert(), healthrule.Error},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := rules.Judge(tc.obj)
			require.True(t, ok)
			assert.Equal(t, tc.want, v.Status, v.Message)
			if tc.want != healthrule.Current {
				assert.NotEmpty(t, v.Message)
			}
		})
	}
	other := cert()
	other.SetAPIVersion("example.dev/v2")
	_, ok := rules.Judge(other)
	assert.False(t, ok, "a rule covers its apiVersion only")
	var none *healthrule.Rules
	_, ok = none.Judge(cert())
	assert.False(t, ok)
}

func TestBadRulesAreOneLine(t *testing.T) {
	cases := map[string]string{
		"does not compile": "- {apiVersion: example.dev/v1, kind: Certificate, current: \"status.conditions.exists(c, \"}",
		"not a bool":       "- {apiVersion: example.dev/v1, kind: Certificate, current: \"1 + 2\"}",
		"bad failed":       "- {apiVersion: example.dev/v1, kind: Certificate, current: \"true\", failed: \"status..x\"}",
		"no current":       "- {apiVersion: example.dev/v1, kind: Certificate}",
		"no kind":          "- {apiVersion: example.dev/v1, current: \"true\"}",
		"twice":            "- {apiVersion: example.dev/v1, kind: C, current: \"true\"}\n- {apiVersion: example.dev/v1, kind: C, current: \"true\"}",
		"unknown field":    "- {apiVersion: example.dev/v1, kind: C, current: \"true\", inProgres: \"x\"}",
		"not a list":       "apiVersion: v1",
		"unknown variable": "- {apiVersion: example.dev/v1, kind: C, current: \"self.status\"}",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := healthrule.Parse(text)
			require.Error(t, err)
			assert.False(t, strings.Contains(err.Error(), "\n"), err.Error())
		})
	}
	rules, err := healthrule.Parse("  ")
	require.NoError(t, err)
	assert.Equal(t, 0, rules.Len())
}
