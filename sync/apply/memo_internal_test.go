package apply

import (
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestMemoIsReusedOnlyForTheSameKeyResourceAndHash(t *testing.T) {
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "a"}}}
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	ref := ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "team", Name: "a"}
	m := &memo{}
	m.store("team", map[string]prepared{"k": {ref: ref, hash: "h", gvr: gvr, namespaced: true}})
	a := &Applier{memo: m}
	mapping := func(res string, scope meta.RESTScope) lookup {
		return func(schema.GroupVersionKind) (*meta.RESTMapping, error) {
			return &meta.RESTMapping{Resource: schema.GroupVersionResource{Version: "v1", Resource: res}, Scope: scope}, nil
		}
	}
	for _, tc := range []struct {
		name   string
		ns     string
		key    string
		hash   string
		lookup lookup
		reused bool
	}{
		{"the same", "team", "k", "h", mapping("configmaps", meta.RESTScopeNamespace), true},
		{"another key", "team", "k2", "h", mapping("configmaps", meta.RESTScopeNamespace), false},
		{"no key", "team", "", "h", mapping("configmaps", meta.RESTScopeNamespace), false},
		{"another hash in the inventory", "team", "k", "h2", mapping("configmaps", meta.RESTScopeNamespace), false},
		{"another resource", "team", "k", "h", mapping("configmaps2", meta.RESTScopeNamespace), false},
		{"no longer namespaced", "team", "k", "h", mapping("configmaps", meta.RESTScopeRoot), false},
		{"another namespace", "other", "k", "h", mapping("configmaps", meta.RESTScopeNamespace), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := []*unstructured.Unstructured{cm}
			k := a.keyedBy(tc.ns, objs, []string{tc.key}, map[string]string{ref.id(): tc.hash})
			d, ok := k.reuse(0, cm, tc.lookup)
			require.Equal(t, tc.reused, ok)
			if ok {
				require.Equal(t, ref, d.ref)
				require.Equal(t, "h", d.hash)
			}
		})
	}
	require.Nil(t, a.keyedBy("team", []*unstructured.Unstructured{cm}, nil, nil), "keys that do not name each object are not used")
}
