package packindex

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Offsets past the 32-bit table's limit go to the table of 64-bit
// offsets as git index-pack puts them there: a small limit (git's
// --index-version=2,<limit>) stands in for a pack over 2 GiB.
func TestIndexWithLargeOffsetsMatchesGit(t *testing.T) {
	repo := history(t)
	pack := packObjects(t, repo, "", "--revs", "--all", "--delta-base-offset")
	want := filepath.Join(t.TempDir(), "git.idx")
	git(t, filepath.Dir(pack), "index-pack", "--index-version=2,64", "-o", want, pack)

	f, err := os.Open(pack)
	require.NoError(t, err)
	defer f.Close()
	objs, sum, err := Index(f, t.TempDir(), 16<<20)
	require.NoError(t, err)
	got := filepath.Join(t.TempDir(), "ours.idx")
	require.NoError(t, objs.writeIndex(got, sum, 64))

	wantB, err := os.ReadFile(want)
	require.NoError(t, err)
	gotB, err := os.ReadFile(got)
	require.NoError(t, err)
	require.Greater(t, len(gotB), 8+256*4+objs.Len()*28+40+8*10, "offsets in the 64-bit table")
	require.Equal(t, wantB, gotB)
}
