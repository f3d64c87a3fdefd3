package packs

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/stretchr/testify/require"
)

// Cost tells, of every object of a pack of deep delta chains (by offset
// or by reference), what git verify-pack tells: its type and size, the
// depth of its chain, and every entry of the chain inflated.
func TestCostIsTheChainGitTells(t *testing.T) {
	for _, ofs := range []bool{true, false} {
		t.Run("ofs="+strconv.FormatBool(ofs), func(t *testing.T) {
			r := newRepo(t)
			r.commits(12, false)
			id := r.pack(strings.Split(r.git("rev-list", "--objects", "--all"), "\n"), ofs)
			require.Equal(t, 1, r.packCount(), "the commits' objects are loose")
			want := verifyPack(t, r, id)
			s, err := Open(r.packDir(), cache.NewObjectLRU(0))
			require.NoError(t, err)
			defer s.Close()
			deep := 0
			for h, o := range want {
				c, err := s.Cost(h)
				require.NoError(t, err, h)
				require.Equal(t, o.typ, c.Type, h)
				require.Equal(t, o.size, c.Size, h)
				require.Equal(t, o.depth, c.Depth, h)
				require.Equal(t, o.inflated, c.Inflated, h)
				deep = max(deep, c.Depth)
			}
			require.Equal(t, 2, deep, "deltas of deltas")
			_, err = s.Cost(plumbing.NewHash(strings.Repeat("ab", 20)))
			require.ErrorIs(t, err, plumbing.ErrObjectNotFound)
		})
	}
}

type told struct {
	typ            plumbing.ObjectType
	size, inflated int64
	depth          int
	stored         int64 // verify-pack's size: a delta's own
	base           plumbing.Hash
}

// verifyPack reads git verify-pack -v of pack id, and each object's size
// from git cat-file, and sums every chain.
func verifyPack(t *testing.T, r *repo, id plumbing.Hash) map[plumbing.Hash]*told {
	out := r.git("verify-pack", "-v", filepath.Join(r.packDir(), "pack-"+id.String()+".idx"))
	objs := map[plumbing.Hash]*told{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || len(f[0]) != 40 {
			continue
		}
		typ, err := plumbing.ParseObjectType(f[1])
		require.NoError(t, err)
		o := &told{typ: typ}
		o.stored, err = strconv.ParseInt(f[2], 10, 64)
		require.NoError(t, err)
		if len(f) == 7 {
			o.depth, err = strconv.Atoi(f[5])
			require.NoError(t, err)
			o.base = plumbing.NewHash(f[6])
		}
		objs[plumbing.NewHash(f[0])] = o
	}
	for _, line := range strings.Split(r.git("cat-file", "--batch-all-objects", "--batch-check"), "\n") {
		f := strings.Fields(line) // name, type, size
		o := objs[plumbing.NewHash(f[0])]
		require.NotNil(t, o, line)
		size, err := strconv.ParseInt(f[2], 10, 64)
		require.NoError(t, err)
		o.size = size
	}
	for _, o := range objs {
		for at := o; ; at = objs[at.base] {
			if at.depth == 0 {
				o.inflated += at.size
				break
			}
			o.inflated += at.stored + at.size
		}
	}
	return objs
}
