package gitsource_test

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

// A tree counts a directory's entries as ReadDir lists them, without
// listing it.
func TestTreeCountsEntries(t *testing.T) {
	up := newUpstream(t)
	up.write(map[string]string{"team/a.yaml": "a\n", "team/b.txt": "b\n", "team/sub/c.yaml": "c\n", "base/x.yaml": "x\n"})
	up.symlink("../base", "team/shared")
	sha := up.commit("count", nil)
	src := newSource(t, gitsource.Options{URL: up.url()})
	syncTo(t, src, sha)
	tree, err := src.Tree(sha)
	require.NoError(t, err)
	counter, ok := tree.(interface{ CountEntries(string) (int, error) })
	require.True(t, ok, "a tree can count")

	for _, dir := range []string{"team", "team/shared", "team/sub", "."} {
		listed, err := fs.ReadDir(tree, dir)
		require.NoError(t, err)
		n, err := counter.CountEntries(dir)
		require.NoError(t, err)
		require.Equal(t, len(listed), n, dir)
	}
	_, err = counter.CountEntries("team/a.yaml")
	require.Error(t, err)
	_, err = counter.CountEntries("nope")
	require.ErrorIs(t, err, fs.ErrNotExist)
}
