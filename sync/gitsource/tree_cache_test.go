package gitsource

import (
	"fmt"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// Following a directory of a thousand files, every commit brings a new
// tree of it: the cache must hold a bounded number of entries, not of
// trees.
func TestTreeCacheIsBoundedByEntries(t *testing.T) {
	c := newTreeCache(treeCacheEntries)
	big := &dir{entries: make([]entry, 1000)}
	for i := range 1000 {
		h := plumbing.ComputeHash(plumbing.TreeObject, fmt.Appendf(nil, "tree %d", i))
		c.put(h, big)
		if _, ok := c.get(h); !ok {
			t.Fatalf("tree %d not found right after it was put", i)
		}
	}
	held := 0
	for _, m := range []map[plumbing.Hash]*dir{c.cur, c.prev} {
		for _, d := range m {
			held += len(d.entries)
		}
	}
	if held > 2*treeCacheEntries {
		t.Fatalf("the cache holds %d entries after 1,000 trees of 1,000, want at most %d", held, 2*treeCacheEntries)
	}
}
