// Package kustomizetest builds the kustomizations of this source tree (the
// deploy manifests), for the tests that install or compare them.
package kustomizetest

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/syncgate/syncgate/testing/cluster"
)

// Build is `kustomize build <dir>`, dir relative to the source tree's root.
func Build(t testing.TB, dir string) []*unstructured.Unstructured {
	t.Helper()
	root, err := cluster.RepoRoot()
	require.NoError(t, err)
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(root, dir))
	require.NoError(t, err)
	var objs []*unstructured.Unstructured
	for _, r := range res.Resources() {
		j, err := r.MarshalJSON()
		require.NoError(t, err)
		u := &unstructured.Unstructured{}
		require.NoError(t, u.UnmarshalJSON(j))
		objs = append(objs, u)
	}
	return objs
}
