package main

import (
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestServiceLinksOffReachesEveryDeployment(t *testing.T) {
	for _, links := range []bool{true, false} {
		o := &options{serviceLinks: links}
		deployments := 0
		for _, doc := range o.files("team", 40, 0) {
			u := &unstructured.Unstructured{}
			require.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object))
			on, found, err := unstructured.NestedBool(u.Object, "spec", "template", "spec", "enableServiceLinks")
			require.NoError(t, err)
			if u.GetKind() != "Deployment" {
				require.False(t, found)
				continue
			}
			deployments++
			require.Equal(t, !links, found, "%s", u.GetName())
			require.False(t, on)
		}
		require.Equal(t, 10, deployments)
	}
}
