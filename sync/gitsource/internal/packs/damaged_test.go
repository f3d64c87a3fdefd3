package packs

import (
	"crypto/sha1"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/stretchr/testify/require"
)

// A damaged index or pack is refused when the Set opens it, with an error
// naming it: not a panic at the first lookup, not another object read in
// place of the one asked, not objects that read as missing.
func TestDamagedPackOrIndexIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, idx, pack string, first byte)
		want   error
	}{
		{"fanout out of order", func(t *testing.T, idx, _ string, first byte) {
			b := readable(t, idx)
			for i := int(first); i < 255; i++ { // a lookup of first would slice past the names
				binary.BigEndian.PutUint32(b[8+4*i:], 1<<31-1)
			}
			sum := sha1.Sum(b[:len(b)-20]) // a checksum that matches: only the order tells
			copy(b[len(b)-20:], sum[:])
			require.NoError(t, os.WriteFile(idx, b, 0o644))
		}, idxfile.ErrMalformedIdxFile},
		{"name damaged", func(t *testing.T, idx, _ string, _ byte) {
			b := readable(t, idx)
			b[8+256*4+3] ^= 0x40
			require.NoError(t, os.WriteFile(idx, b, 0o644))
		}, idxfile.ErrMalformedIdxFile},
		{"pack truncated", func(t *testing.T, _, pack string, _ byte) {
			b := readable(t, pack)
			require.NoError(t, os.WriteFile(pack, b[:len(b)/2], 0o644))
		}, errPackDamaged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRepo(t)
			r.commits(3, false)
			r.git("repack", "-a", "-d", "-q")
			objs := r.objects()
			ids, err := list(r.packDir())
			require.NoError(t, err)
			require.Len(t, ids, 1)
			base := filepath.Join(r.packDir(), "pack-"+ids[0].String())
			tc.damage(t, base+".idx", base+".pack", objs[0][0])

			s, err := Open(r.packDir(), cache.NewObjectLRU(1<<20))
			require.ErrorIs(t, err, tc.want)
			require.ErrorContains(t, err, "pack-"+ids[0].String())
			require.Nil(t, s)
		})
	}
}

func readable(t *testing.T, name string) []byte {
	t.Helper()
	require.NoError(t, os.Chmod(name, 0o644))
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return b
}

// A damaged pack elsewhere in the directory is reported by the merge's
// switch, but does not keep the packs merged: every later fetch would
// merge them again, each time into one more pack.
func TestDamagedPackDoesNotStopAMerge(t *testing.T) {
	r := newRepo(t)
	r.commits(6, true)
	s, err := Open(r.packDir(), cache.NewObjectLRU(1<<20))
	require.NoError(t, err)
	defer s.Close()
	ids := s.ToMerge(1)
	require.Len(t, ids, 6)
	id, err := Merge(r.packDir(), ids)
	require.NoError(t, err)

	damaged := filepath.Join(r.packDir(), "pack-"+strings.Repeat("ab", 20))
	require.NoError(t, os.WriteFile(damaged+".idx", []byte("not an index"), 0o644))
	require.NoError(t, os.WriteFile(damaged+".pack", []byte("not a pack"), 0o644))
	err = s.Replace(id, ids)
	require.ErrorContains(t, err, filepath.Base(damaged))
	require.Equal(t, 2, r.packCount(), "the merged one and the damaged one")
	require.Equal(t, 1, s.Count())
}
