package benchenv

import (
	"fmt"
	"strings"
)

// Kinds are the kinds Object writes, in the order the benchmarks mix them.
func Kinds() []string { return []string{"configmap", "secret", "service", "deployment"} }

// Object is generated object i of kind, as a config repo holds it: a
// ConfigMap of 200 bytes, a Secret, a Service, or a Deployment of one
// replica, each named after i.
func Object(kind string, i int) (string, error) {
	switch kind {
	case "configmap":
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\ndata: {index: \"%d\", payload: %q}\n", i, i, strings.Repeat("x", 200)), nil
	case "secret":
		return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: secret-%d}\nstringData: {token: \"t-%d\"}\n", i, i), nil
	case "service":
		return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: svc-%d}\nspec: {selector: {app: app-%d}, ports: [{port: 80}]}\n", i, i), nil
	case "deployment":
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: app-%[1]d}
spec:
  replicas: 1
  selector: {matchLabels: {app: app-%[1]d}}
  template:
    metadata: {labels: {app: app-%[1]d}}
    spec:
      containers: [{name: app, image: "registry.example.com/app:%[1]d"}]
`, i), nil
	}
	return "", fmt.Errorf("unknown kind %q (%s)", kind, strings.Join(Kinds(), ", "))
}

// ObjectFile is the file object i is written to.
func ObjectFile(i int) string { return fmt.Sprintf("obj-%05d.yaml", i) }
