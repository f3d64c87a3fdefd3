package soak

import (
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// A seed reproduces a run: the same commits and the same faults.
func TestPlanIsSeeded(t *testing.T) {
	opts := Options{Seed: 42, Commits: 200, FaultRate: 0.5}
	a := Plan(opts)
	require.Equal(t, a, Plan(opts))
	opts.Seed = 43
	require.NotEqual(t, a, Plan(opts))
	for _, k := range Kinds[1:] {
		require.Contains(t, a, " "+string(k), "200 commits have some of kind %s", k)
	}
	for _, f := range FaultKinds {
		require.Contains(t, a, "fault "+string(f)+" ")
	}
	opts.Faults = []FaultKind{}
	require.NotContains(t, Plan(opts), "fault ")
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
