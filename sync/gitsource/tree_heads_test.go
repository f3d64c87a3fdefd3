package gitsource_test

import (
	"fmt"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

// Following a directory of many files, one of them changed a commit: the
// decoded trees kept are those of the last two heads, whatever the
// history, and go-git does not keep their raw bytes beside them.
func TestTreesKeptAreThoseOfTheLastTwoHeads(t *testing.T) {
	const files, commits = 300, 12
	u := newUpstream(t)
	first := map[string]string{}
	for i := range files {
		first[fmt.Sprintf("ns/cm-%03d.yaml", i)] = fmt.Sprintf("kind: ConfigMap\nmetadata: {name: cm-%03d}\n", i)
	}
	u.commit("first", first)
	src := newSource(t, gitsource.Options{URL: u.url()})
	for i := range commits {
		sha := u.commit(fmt.Sprint("change ", i), map[string]string{"ns/cm-000.yaml": fmt.Sprintf("data: {n: %q}\n", fmt.Sprint(i))})
		syncTo(t, src, sha)
		tree, err := src.Tree(sha)
		require.NoError(t, err)
		listed, err := fs.ReadDir(tree, "ns")
		require.NoError(t, err)
		require.Len(t, listed, files)
	}
	entries, rawToo := src.TreeCacheEntries()
	// Two heads: each a root tree of one entry and a tree of the files.
	require.LessOrEqual(t, entries, 2*(1+files), "entries of the decoded trees kept after %d commits", commits)
	require.Zero(t, rawToo, "trees go-git's object cache also holds raw")
}
