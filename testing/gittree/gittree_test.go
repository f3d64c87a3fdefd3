package gittree_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/gittree"
)

func TestHashNamesByContent(t *testing.T) {
	a := gittree.New(map[string]string{"web/a.yaml": "x", "web/b.yaml": "y", "other/c.yaml": "x"})
	b := gittree.New(map[string]string{"web/a.yaml": "x", "web/b.yaml": "z", "other/c.yaml": "x"})
	hash := func(tr gittree.Tree, name string) string {
		h, err := tr.Hash(name)
		require.NoError(t, err)
		return h
	}
	require.Equal(t, hash(a, "web/a.yaml"), hash(a, "other/c.yaml"), "a file is named by its content alone, as a git blob")
	require.Equal(t, hash(a, "web/a.yaml"), hash(b, "web/a.yaml"))
	require.NotEqual(t, hash(a, "web/b.yaml"), hash(b, "web/b.yaml"))
	require.NotEqual(t, hash(a, "web"), hash(b, "web"), "a directory changes with what is below it")
	require.Equal(t, hash(a, "other"), hash(b, "other"))
	_, err := a.Hash("missing")
	require.Error(t, err)
}
