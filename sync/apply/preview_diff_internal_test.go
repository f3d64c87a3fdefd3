package apply

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Only what syncgate sets is a change: a field it drops (owned before) is
// removed, a field another manager or a controller changed is not shown,
// a Secret's values never are.
func TestDiffObjectsScope(t *testing.T) {
	live := doc(t, `{"metadata":{"name":"web","annotations":{"rev":"1","team":"a"},"resourceVersion":"7"},
		"spec":{"replicas":2,"paused":true,"template":{"spec":{"containers":[{"name":"app","image":"a:1","args":["x"]}]}}},
		"status":{"ready":1}}`)
	after := doc(t, `{"metadata":{"name":"web","annotations":{"rev":"2"},"resourceVersion":"8"},
		"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"app","image":"a:1","args":["y"]}]}}},
		"status":{"ready":2}}`)
	want := doc(t, `{"metadata":{"name":"web"},"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"app","image":"a:1","args":["y"]}]}}}}`)
	owned := doc(t, `{"f:metadata":{"f:annotations":{"f:team":{}}},"f:spec":{"f:replicas":{},"f:paused":{},
		"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:args":{}}}}}}}`)
	var got []string
	for _, f := range diffObjects(ObjectRef{Group: "apps", Kind: "Deployment"}, live, after, want, owned) {
		got = append(got, f.String())
	}
	require.Equal(t, []string{
		`metadata.annotations.team: "a" → (removed)`,
		`spec.paused: true → (removed)`,
		`spec.replicas: 2 → 3`,
		`spec.template.spec.containers[name=app].args[0]: "x" → "y"`,
	}, got)

	sec := diffObjects(ObjectRef{Kind: "Secret"},
		doc(t, `{"data":{"a":"MQ==","b":"Mg=="}}`), doc(t, `{"data":{"a":"Mw==","c":"NA=="}}`),
		doc(t, `{"data":{"a":"Mw==","c":"NA=="}}`), doc(t, `{"f:data":{"f:a":{},"f:b":{}}}`))
	require.Equal(t, []FieldChange{
		{Path: "data.a", Op: "change", Hidden: true},
		{Path: "data.b", Op: "remove", Hidden: true},
		{Path: "data.c", Op: "add", Hidden: true},
	}, sec)
}
