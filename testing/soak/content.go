package soak

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/syncgate/syncgate/testing/cluster"
)

// Poison is what makes a namespace's content fail on its own.
type Poison string

// The poisons a commit can carry.
const (
	Clean     Poison = ""
	BadYAML   Poison = "invalid-yaml" // refused by render
	BadField  Poison = "api-refusal"  // passes render, refused by the server-side dry run
	CrashLoop Poison = "crashloop"    // applied, its pods crashloop
)

// Valid reports whether the content passes render and dry run, so that a
// commit holding it can be applied and the cluster run it.
func (p Poison) Valid() bool { return p == Clean || p == CrashLoop }

// nsContent is what one commit says one namespace runs: the model the
// files are written from and the cluster is compared with.
type nsContent struct {
	Tag      int            // image tag of Deployment app
	Replicas int            // its replicas
	CMs      map[string]int // ConfigMap name -> its data value
	Rev      int            // a YAML comment: changes no object
	Poison   Poison
}

func (c nsContent) clone() nsContent {
	c.CMs = maps.Clone(c.CMs)
	return c
}

func (c nsContent) String() string {
	names := slices.Sorted(maps.Keys(c.CMs))
	var cms []string
	for _, n := range names {
		cms = append(cms, fmt.Sprintf("%s=%d", n, c.CMs[n]))
	}
	s := fmt.Sprintf("app:%d x%d [%s]", c.Tag, c.Replicas, strings.Join(cms, " "))
	if c.Poison != Clean {
		s += " " + string(c.Poison)
	}
	return s
}

// Image is the image Deployment app runs for tag.
func Image(tag int) string { return fmt.Sprintf("registry.example.com/soak/app:%d", tag) }

// files are the repo files of namespace ns holding c, by path.
func (c nsContent) files(ns string) map[string]string {
	out := map[string]string{ns + "/app.yaml": c.deployment()}
	for name, v := range c.CMs {
		out[ns+"/"+name+".yaml"] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  value: %q\n", name, fmt.Sprint(v))
	}
	if c.Poison == BadYAML {
		out[ns+"/broken.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [broken\n"
	}
	return out
}

func (c nsContent) deployment() string {
	replicas := fmt.Sprint(c.Replicas)
	if c.Poison == BadField {
		// A string where an integer belongs: YAML and render accept it,
		// the API server's typed patch does not (HTTP 500).
		replicas = `"three"`
	}
	annotations := "{}"
	if c.Poison == CrashLoop {
		annotations = fmt.Sprintf("{%s: crashloop}", cluster.AnnotationFail)
	}
	return fmt.Sprintf(`# soak revision %d
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: %s
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
      annotations: %s
    spec:
      containers:
      - name: app
        image: %s
`, c.Rev, replicas, annotations, Image(c.Tag))
}

// tree is the content of every managed namespace in one commit.
type tree map[string]nsContent

func (t tree) clone() tree {
	out := make(tree, len(t))
	for ns, c := range t {
		out[ns] = c.clone()
	}
	return out
}

func initialContent() nsContent {
	return nsContent{Tag: 1, Replicas: 2, CMs: map[string]int{"cm-1": 1, "cm-2": 1}}
}
