package benchenv

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIsDiscovery(t *testing.T) {
	for path, want := range map[string]bool{
		"/api":                              true,
		"/apis":                             true,
		"/api/v1":                           true,
		"/apis/apps":                        true,
		"/apis/apps/v1":                     true,
		"/api/v1/namespaces":                false,
		"/api/v1/namespaces/a/configmaps/b": false,
		"/apis/apps/v1/deployments":         false,
		"/apis/syncgate.dev/v1alpha1/namespaces/a/versions/a": false,
		"/healthz": false,
	} {
		require.Equal(t, want, isDiscovery(path), path)
	}
}
