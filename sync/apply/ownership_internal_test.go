package apply

import (
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestOwnershipRules(t *testing.T) {
	applied := []metav1.ManagedFieldsEntry{{Manager: "syncgate", Operation: metav1.ManagedFieldsOperationApply}}
	updated := []metav1.ManagedFieldsEntry{{Manager: "syncgate", Operation: metav1.ManagedFieldsOperationUpdate}}
	obj := func(labels, annotations map[string]string, fields []metav1.ManagedFieldsEntry) metav1.Object {
		return &metav1.ObjectMeta{Labels: labels, Annotations: annotations, ManagedFields: fields}
	}
	mine := map[string]string{ManagedByLabel: ManagedByValue, OwnerLabel: "a"}
	legacy := map[string]string{ManagedByLabel: ManagedByValue}
	adopted := map[string]string{AdoptedAnnotation: "true"}
	cases := []struct {
		name      string
		live      metav1.Object
		adoptable bool
		disowned  string
	}{
		{"created by a's apply", obj(mine, nil, applied), false, ""},
		{"adopted by a's apply", obj(mine, adopted, applied), false, "adopted: it existed before syncgate applied it"},
		{"someone else's", obj(nil, nil, nil), true, "not managed by syncgate"},
		{"someone else's, adopted before", obj(nil, adopted, nil), false, "not managed by syncgate"},
		{"b's", obj(map[string]string{ManagedByLabel: ManagedByValue, OwnerLabel: "b"}, nil, applied), true, "not applied for namespace a"},
		{"applied before owners were marked", obj(legacy, nil, applied), false, "not applied for namespace a"},
		{"labelled by a controller copying labels", obj(legacy, nil, updated), true, "not applied for namespace a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.adoptable, adoptable(tc.live, "a", "syncgate"))
			require.Equal(t, tc.disowned, disowned(tc.live, "a"))
		})
	}
	require.Equal(t, "no namespace to prune for", disowned(obj(legacy, nil, applied), ""), "an apply for no namespace prunes nothing")
}

func TestOutside(t *testing.T) {
	a := &Applier{allowed: map[string]bool{"shared": true}}
	ref := func(ns string) ObjectRef {
		return ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: "x"}
	}
	require.Empty(t, a.outside("a", ref("a"), true))
	require.Empty(t, a.outside("a", ref("shared"), true))
	require.Equal(t, "not in namespace a", a.outside("a", ref("b"), true))
	require.Equal(t, "not in namespace a", a.outside("a", ref(""), true))
	require.Equal(t, "cluster-scoped objects are not allowed", a.outside("a", ref(""), false))
	require.Equal(t, "cluster-scoped, recorded in a namespace", a.outside("a", ref("a"), false))
	a.opts.AllowClusterScoped = true
	require.Empty(t, a.outside("a", ref(""), false))
	require.Equal(t, "cluster-scoped, recorded in a namespace", a.outside("a", ref("a"), false))
}
