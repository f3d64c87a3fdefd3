package benchenv

import (
	"testing"

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
