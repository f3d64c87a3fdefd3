package gitsource

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// treeOf is the content of a tree object of the files named.
func treeOf(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "100644 %s\x00%s", n, strings.Repeat("\x01", 20))
	}
	return b.String()
}

// Following a directory of a thousand files, every commit brings a new
// tree of it; its entries may each be named with a kilobyte: the cache
// must hold a bounded number of bytes, not of trees or entries.
func TestTreeCacheIsBoundedByBytes(t *testing.T) {
	names, long := make([]string, 1000), make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("cm-%03d.yaml", i)
		long[i] = fmt.Sprintf("%03d%s", i, strings.Repeat("n", MaxNameBytes-3))
	}
	for _, tc := range []struct {
		name string
		raw  string
	}{
		{"a thousand files", treeOf(names...)},
		{"long names", treeOf(long...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := decodeDir(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			c := newTreeCache(treeCacheBytes)
			for i := range 1000 {
				h := plumbing.ComputeHash(plumbing.TreeObject, fmt.Appendf(nil, "tree %d", i))
				c.put(h, d)
				if _, ok := c.get(h); !ok {
					t.Fatalf("tree %d not found right after it was put", i)
				}
			}
			held := 0
			for _, m := range []map[plumbing.Hash]*dir{c.cur, c.prev} {
				held += len(m) * len(tc.raw)
			}
			if held > 2*treeCacheBytes {
				t.Fatalf("the cache holds trees of %d bytes after 1,000 trees of %d, want at most %d", held, len(tc.raw), 2*treeCacheBytes)
			}
		})
	}
}
