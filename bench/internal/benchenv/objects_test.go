package benchenv

import (
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestObject(t *testing.T) {
	want := map[string]string{"configmap": "ConfigMap", "secret": "Secret", "service": "Service", "deployment": "Deployment"}
	for _, kind := range Kinds() {
		doc, err := Object(kind, 7)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		var u unstructured.Unstructured
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatalf("%s: %v\n%s", kind, err, doc)
		}
		if u.GetKind() != want[kind] || u.GetName() == "" {
			t.Errorf("%s: got kind %q name %q", kind, u.GetKind(), u.GetName())
		}
	}
	if _, err := Object("pod", 1); err == nil {
		t.Error("an unknown kind: no error")
	}
}

// Files are the four kinds in turn, and a new revision changes the one
// file Changed writes.
func TestFilesAreTheKindsInTurnAndARevisionChangesOne(t *testing.T) {
	a, b := Files("ns", 1000, 1), Files("ns", 1000, 2)
	require.Len(t, a, 1000)
	counts := map[string]int{}
	var changed []string
	for name, doc := range a {
		var u unstructured.Unstructured
		require.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object), name)
		counts[u.GetKind()]++
		if b[name] != doc {
			changed = append(changed, name)
		}
	}
	require.Equal(t, map[string]int{"ConfigMap": 250, "Secret": 250, "Service": 250, "Deployment": 250}, counts)
	require.Equal(t, []string{"ns/" + ObjectFile(0)}, changed)
	require.Equal(t, Changed("ns", 2), map[string]string{changed[0]: b[changed[0]]})
}
