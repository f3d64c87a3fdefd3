package apply

import (
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func doc(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(s), &m))
	return m
}

func TestHolds(t *testing.T) {
	cases := []struct {
		name       string
		live, want string
		holds      bool
	}{
		{"equal", `{a: 1, b: x}`, `{a: 1, b: x}`, true},
		{"live has more fields", `{a: 1, b: x, c: {d: 2}}`, `{a: 1}`, true},
		{"changed scalar", `{spec: {replicas: 5}}`, `{spec: {replicas: 2}}`, false},
		{"missing field", `{spec: {}}`, `{spec: {replicas: 2}}`, false},
		{"zero values the server omits", `{spec: {}}`, `{spec: {paused: false, args: [], labels: {}, x: null}}`, true},
		{"integers and floats", `{a: 1.0}`, `{a: 1}`, true},
		{"quantities by amount", `{resources: {requests: {cpu: 500m, memory: 1Gi}}}`, `{resources: {requests: {cpu: "0.5", memory: 1073741824}}}`, true},
		{"quantities differ", `{resources: {limits: {cpu: 500m}}}`, `{resources: {limits: {cpu: "1"}}}`, false},
		{"not a quantity field", `{data: {v: "1.0"}}`, `{data: {v: "1"}}`, false},
		{"containers by name, defaults added", `{containers: [{name: b, image: y, imagePullPolicy: Always}, {name: a, image: x}]}`, `{containers: [{name: a, image: x}, {name: b, image: y}]}`, true},
		{"container changed", `{containers: [{name: a, image: x2}]}`, `{containers: [{name: a, image: x}]}`, false},
		{"container removed", `{containers: [{name: b, image: y}]}`, `{containers: [{name: a, image: x}]}`, false},
		{"env added by another manager", `{env: [{name: A, value: "1"}, {name: B, value: "2"}]}`, `{env: [{name: A, value: "1"}]}`, true},
		{"ports by port and protocol", `{ports: [{port: 80, protocol: TCP, targetPort: 80}]}`, `{ports: [{port: 80}]}`, true},
		{"port protocol differs", `{ports: [{port: 53, protocol: UDP}]}`, `{ports: [{port: 53}]}`, false},
		{"scalar lists in order", `{args: [a, b]}`, `{args: [b, a]}`, false},
		{"scalar list longer", `{args: [a, b]}`, `{args: [a]}`, false},
		{"type mismatch", `{a: {b: 1}}`, `{a: [1]}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.holds, holds(doc(t, tc.live), doc(t, tc.want)))
		})
	}
}

func TestComparableSecret(t *testing.T) {
	u := &unstructured.Unstructured{Object: doc(t, `{apiVersion: v1, kind: Secret, metadata: {name: s}, data: {a: YQ==}, stringData: {b: bee}}`)}
	c := asStored(u)
	require.Equal(t, map[string]any{"a": "YQ==", "b": "YmVl"}, c.Object["data"])
	require.NotContains(t, c.Object, "stringData")
	require.Contains(t, u.Object, "stringData", "the desired object is not changed")
}

// A failed Apply's result tells what it wrote as a whole one does, which
// of it was ready as written too: a restore cut short after sending objects
// with a rollout gives that rollout a health timeout of its own.
func TestWrittenResult(t *testing.T) {
	cm := func(name string) ObjectRef {
		return ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: "n", Name: name}
	}
	w := &written{prev: []Entry{{ObjectRef: cm("a"), Hash: "1"}, {ObjectRef: cm("b"), Hash: "1"}}}
	w.add(&desired{ref: cm("c"), hash: "2"}, false, true)
	w.add(&desired{ref: cm("b"), hash: "2"}, true, false)
	res := w.result()
	require.Equal(t, []Entry{{ObjectRef: cm("a"), Hash: "1"}, {ObjectRef: cm("b"), Hash: "2"}, {ObjectRef: cm("c"), Hash: "2"}}, res.Inventory)
	require.Equal(t, []ObjectRef{cm("b"), cm("c")}, res.Applied)
	require.Equal(t, []ObjectRef{cm("b")}, res.Adopted)
	require.Equal(t, []ObjectRef{cm("c")}, res.Ready)
}
