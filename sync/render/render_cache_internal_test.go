package render

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFileCacheStaysWithinItsBound(t *testing.T) {
	c := newFileCache(3 * entryBytes)
	fill := func(ns string, files ...string) {
		g := c.begin(ns)
		for _, f := range files {
			g.keep(fileKey{f, "blob-" + f}, newParsed(nil, 10, nil))
		}
		g.store()
	}
	fill("a", "1")
	fill("b", "1", "2")
	n, held := c.held()
	require.Equal(t, 2, n)
	require.EqualValues(t, 3*entryBytes, held)

	fill("c", "1")
	n, held = c.held()
	require.Equal(t, 2, n, "the namespace rendered longest ago is dropped")
	require.EqualValues(t, 3*entryBytes, held)
	_, kept := c.begin("a").get(fileKey{"1", "blob-1"}, true)
	require.False(t, kept)
	_, kept = c.begin("b").get(fileKey{"2", "blob-2"}, true)
	require.True(t, kept)

	fill("b", "1", "2", "3", "4")
	n, held = c.held()
	require.Equal(t, 1, n, "a set larger than the bound is not kept, and its older set goes")
	require.EqualValues(t, entryBytes, held)

	g := c.begin("c")
	_, kept = g.get(fileKey{"1", "blob-1"}, true)
	require.True(t, kept)
	g.store()
	fill("c")
	n, held = c.held()
	require.Zero(t, n, "a render that kept nothing leaves nothing")
	require.Zero(t, held)
}
