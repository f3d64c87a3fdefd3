package packs

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/stretchr/testify/require"
)

// pack writes the objects named by lines into a new pack, with offset
// deltas or reference deltas, and returns its id.
func (r *repo) pack(lines []string, ofs bool) plumbing.Hash {
	r.t.Helper()
	args := []string{"pack-objects", "-q", "--window=50", "--depth=50", filepath.Join(r.packDir(), "pack")}
	if ofs {
		args = append(args, "--delta-base-offset")
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := cmd.Output()
	require.NoError(r.t, err)
	return plumbing.NewHash(strings.TrimSpace(string(out)))
}

// Packs holding the same objects as deltas on other bases, by offset or by
// reference, merge into one whose deltas all resolve: an offset delta whose
// base was copied from an earlier pack points far back (its header grows),
// a reference delta's base is wherever the merged pack has it.
func TestMergeRenumbersDeltasAcrossPacks(t *testing.T) {
	r := newRepo(t)
	r.commits(60, false)
	r.git("repack", "-a", "-d", "-f", "-q", "--window=50", "--depth=50")
	all := strings.Split(r.git("rev-list", "--objects", "--all"), "\n")
	var odd, even []string
	for i, l := range all {
		if i%2 == 1 {
			odd = append(odd, l)
		} else if i%3 == 0 {
			even = append(even, l)
		}
	}
	whole, err := list(r.packDir())
	require.NoError(t, err)
	refs := r.pack(all[len(all)/3:], false) // a late two thirds, reference deltas
	ofsOdd := r.pack(odd, true)
	refsEven := r.pack(even, false)
	for _, order := range [][]plumbing.Hash{
		{refsEven, whole[0]}, // the whole pack's deltas: some bases copied before, some entries between skipped
		{ofsOdd, whole[0]},
		{refsEven, ofsOdd, refs, whole[0]},
		{whole[0], refs, ofsOdd, refsEven},
	} {
		id, err := Merge(r.packDir(), order)
		require.NoError(t, err)
		r.git("verify-pack", filepath.Join(r.packDir(), "pack-"+id.String()+".idx"))
		requireIndexAsGits(t, r, id)
		requireAllReadableIn(t, r, id)
	}
}

// requireIndexAsGits checks that the index of pack id is byte for byte
// the one git index-pack writes for it, given options.
func requireIndexAsGits(t *testing.T, r *repo, id plumbing.Hash, options ...string) {
	t.Helper()
	base := filepath.Join(r.packDir(), "pack-"+id.String())
	theirs := filepath.Join(t.TempDir(), "git.idx")
	r.git(append(append([]string{"index-pack"}, options...), "-o", theirs, base+".pack")...)
	want, err := os.ReadFile(theirs)
	require.NoError(t, err)
	got, err := os.ReadFile(base + ".idx")
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "the merged pack's index differs from git index-pack's")
}

// requireAllReadableIn reads every object from pack id alone.
func requireAllReadableIn(t *testing.T, r *repo, id plumbing.Hash) {
	t.Helper()
	s, err := Open(r.packDir(), cache.NewObjectLRU(1<<20))
	require.NoError(t, err)
	defer s.Close()
	p := s.find(id)
	require.NotNil(t, p)
	for _, other := range s.packs {
		if other != p {
			require.NoError(t, other.file.Close())
		}
	}
	s.packs = []*pack{p}
	requireAllReadableFrom(t, r, s)
}
