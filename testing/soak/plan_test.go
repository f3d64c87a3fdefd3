package soak

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// trace plans n steps of a run with seed, without running anything, the way
// act and rollBack move the branch.
func trace(t *testing.T, seed int64, n int) (string, map[Kind]int) {
	t.Helper()
	opts := Options{Seed: seed, Commits: n, Namespaces: 2, HealthTimeout: 30e9, Faults: FaultKinds, FaultRate: 0.5}
	e := &env{namespaces: []string{"ns-a", "ns-b"}}
	s := newSoak(context.Background(), opts, e)
	first := tree{"ns-a": initialContent(), "ns-b": initialContent()}
	s.branch, s.trees["c0"] = []string{"c0"}, first
	kinds := map[Kind]int{}
	var b strings.Builder
	pushed := 0
	for pushed < n {
		a := s.planAction()
		if a.rollback > 0 {
			s.branch = s.branch[:len(s.branch)-a.rollback]
			kinds[Rollback]++
			pushed++
			fmt.Fprintf(&b, "rollback %d\n", a.rollback)
		}
		for _, p := range a.commits {
			head := s.trees[s.branch[len(s.branch)-1]]
			tr, k := s.mutate(p, head)
			sha := fmt.Sprintf("c%d", len(s.trees))
			s.trees[sha] = tr
			s.branch = append(s.branch, sha)
			kinds[k]++
			pushed++
			fmt.Fprintf(&b, "%s %s | %s\n", k, tr["ns-a"], tr["ns-b"])
		}
		for _, f := range s.planFaults() {
			fmt.Fprintf(&b, "fault %s %s %s\n", f.kind, f.offset, f.dur)
		}
	}
	return b.String(), kinds
}

// A seed reproduces a run: the same commits and the same faults.
func TestPlanIsSeeded(t *testing.T) {
	a, kinds := trace(t, 42, 200)
	b, _ := trace(t, 42, 200)
	require.Equal(t, a, b)
	c, _ := trace(t, 43, 200)
	require.NotEqual(t, a, c)
	for _, k := range Kinds[1:] {
		require.Positive(t, kinds[k], "200 commits have some of kind %s", k)
	}
	require.Contains(t, a, "fault ")
}

// The files say what the model says: valid documents, but for the two
// refusals, which must get past YAML (api-refusal) or not (invalid-yaml).
func TestContentFiles(t *testing.T) {
	for _, p := range []Poison{Clean, BadYAML, BadField, CrashLoop} {
		t.Run(string(p), func(t *testing.T) {
			c := initialContent()
			c.Poison = p
			files := c.files("ns")
			require.Len(t, files, 3+map[bool]int{true: 1}[p == BadYAML])
			for path, body := range files {
				var doc map[string]any
				err := yaml.Unmarshal([]byte(body), &doc)
				if path == "ns/broken.yaml" {
					require.Error(t, err)
					continue
				}
				require.NoError(t, err, path)
				if path != "ns/app.yaml" {
					continue
				}
				spec := doc["spec"].(map[string]any)
				if p == BadField {
					require.Equal(t, "three", spec["replicas"])
				} else {
					require.EqualValues(t, 2, spec["replicas"])
				}
				ann := spec["template"].(map[string]any)["metadata"].(map[string]any)["annotations"]
				require.Equal(t, p == CrashLoop, len(ann.(map[string]any)) == 1)
			}
		})
	}
}
