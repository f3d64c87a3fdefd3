package gitsource_test

import (
	"fmt"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

// A directory of more entries than MaxDirEntries, or whose tree object is
// larger than MaxInMemory, is refused, naming it, before its entries are
// built; the rest of the commit reads as before.
func TestBigDirectoryIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n, pad int
		says   string
	}{
		{"entries", gitsource.MaxDirEntries + 1, 8, fmt.Sprintf("more than %d entries", gitsource.MaxDirEntries)},
		{"bytes", 60_000, 300, fmt.Sprintf("bytes, more than the %d syncgate reads", gitsource.MaxInMemory)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t)
			u.commit("first", map[string]string{"team/a.yaml": "a: 1\n"})
			sha := u.bigDir("big", tc.n, tc.pad)
			src := newSource(t, gitsource.Options{URL: u.url()})
			syncTo(t, src, sha)
			tree, err := src.Tree(sha)
			require.NoError(t, err)

			_, err = tree.(interface{ CountEntries(string) (int, error) }).CountEntries("big")
			require.ErrorIs(t, err, gitsource.ErrDirTooLarge)
			require.ErrorIs(t, err, fs.ErrInvalid, "the commit's fault")
			require.ErrorContains(t, err, tc.says)
			_, err = fs.ReadDir(tree, "big")
			require.ErrorIs(t, err, gitsource.ErrDirTooLarge)
			_, err = fs.ReadFile(tree, fmt.Sprintf("big/%0*d", tc.pad, 7))
			require.ErrorIs(t, err, gitsource.ErrDirTooLarge)
			require.ErrorContains(t, err, "big: directory too large", "names the directory walked through")

			data, err := fs.ReadFile(tree, "team/a.yaml")
			require.NoError(t, err)
			require.Equal(t, "a: 1\n", string(data))
			root, err := fs.ReadDir(tree, ".")
			require.NoError(t, err)
			require.Len(t, root, 2)
		})
	}
}
