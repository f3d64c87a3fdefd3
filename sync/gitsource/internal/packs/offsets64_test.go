package packs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/stretchr/testify/require"
)

// Offsets past 2 GiB are in the index's table of 64-bit offsets: git
// index-pack puts every offset past the one it is given there, so a small
// pack exercises it. Its objects read as go-git reads them, and a merge
// of it with another renumbers them, its index's 64-bit table written as
// git writes it.
func TestSixtyFourBitOffsets(t *testing.T) {
	r := newRepo(t)
	r.commits(20, false)
	r.git("repack", "-a", "-d", "-f", "-q", "--window=50")
	r.commits(5, true)
	ids, err := list(r.packDir())
	require.NoError(t, err)
	for _, id := range ids {
		base := filepath.Join(r.packDir(), "pack-"+id.String())
		require.NoError(t, os.Remove(base+".idx"))
		r.git("index-pack", "--index-version=2,64", "-o", base+".idx", base+".pack")
	}
	large := 0
	for _, id := range ids {
		name := filepath.Join(r.packDir(), "pack-"+id.String()+".idx")
		ours, err := readIndex(name)
		require.NoError(t, err)
		large += len(ours.off64) / 8
		f, err := os.Open(name)
		require.NoError(t, err)
		theirs := idxfile.NewMemoryIndex()
		require.NoError(t, idxfile.NewDecoder(f).Decode(theirs))
		require.NoError(t, f.Close())
		require.Equal(t, entries(t, theirs, true), entries(t, ours, true))
	}
	require.Greater(t, large, 20, "offsets past 64 in the 64-bit tables")
	requireAllReadable(t, r)

	id, err := Merge(r.packDir(), ids)
	require.NoError(t, err)
	requireIndexAsGits(t, r, id)
	requireAllReadableIn(t, r, id)

	// the merged pack's index with its own table of 64-bit offsets
	base := filepath.Join(r.packDir(), "pack-"+id.String())
	require.NoError(t, os.Remove(base+".pack"))
	require.NoError(t, os.Remove(base+".idx"))
	largeOffsets = 64
	t.Cleanup(func() { largeOffsets = 0 })
	again, err := Merge(r.packDir(), ids)
	require.NoError(t, err)
	require.Equal(t, id, again)
	merged, err := readIndex(base + ".idx")
	require.NoError(t, err)
	require.Greater(t, len(merged.off64)/8, 20, "offsets past 64 in the merged index's 64-bit table")
	requireIndexAsGits(t, r, id, "--index-version=2,64")
	requireAllReadableIn(t, r, id)
}
