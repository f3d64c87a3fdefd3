package packs

import (
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
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

// A byte flipped inside an entry's compressed data, its index left as it
// was, fails the merge as git fails to reuse that data: copied blind, it
// would be given a CRC and a checksum that match, and the packs that
// could tell it was damaged removed. The packs stay, and the object still
// fails to read rather than reading as something else.
func TestDamagedEntryFailsAMerge(t *testing.T) {
	r := newRepo(t)
	r.commits(6, true)
	ids, err := list(r.packDir())
	require.NoError(t, err)
	require.Len(t, ids, 6)

	// the longest entry of the first pack, damaged half-way through its body
	base := filepath.Join(r.packDir(), "pack-"+ids[0].String())
	ix, err := readIndex(base + ".idx")
	require.NoError(t, err)
	b := readable(t, base+".pack")
	order := ix.offsetOrder()
	var damaged plumbing.Hash
	var at, longest int64
	for k, pos := range order {
		end := int64(len(b)) - 20
		if k+1 < len(order) {
			end = ix.offset(int(order[k+1]))
		}
		if start := ix.offset(int(pos)); end-start > longest {
			damaged, at, longest = ix.hash(int(pos)), start, end-start
		}
	}
	e, err := parseEntry(b[at:])
	require.NoError(t, err)
	b[at+int64(e.length)+(longest-int64(e.length))/2] ^= 0x55
	require.NoError(t, os.WriteFile(base+".pack", b, 0o644))
	require.Error(t, readObject(t, r, damaged), "the damage shows when the object is read")

	_, err = Merge(r.packDir(), ids)
	require.ErrorIs(t, err, errDamaged)
	require.ErrorContains(t, err, "pack-"+ids[0].String()+".pack")
	after, err := list(r.packDir())
	require.NoError(t, err)
	require.ElementsMatch(t, ids, after, "the packs merged are kept")
	require.Empty(t, leftovers(t, r))
	require.Error(t, readObject(t, r, damaged), "still damaged, not read as something else")
}

// readObject reads h through a fresh Set, checking its content against
// its name.
func readObject(t *testing.T, r *repo, h plumbing.Hash) error {
	t.Helper()
	s, err := Open(r.packDir(), cache.NewObjectLRU(1<<20))
	require.NoError(t, err)
	defer s.Close()
	o, err := s.Get(h)
	if err != nil {
		return err
	}
	rd, err := o.Reader()
	if err != nil {
		return err
	}
	content, err := io.ReadAll(rd)
	if err = errors.Join(err, rd.Close()); err != nil {
		return err
	}
	if got := plumbing.ComputeHash(o.Type(), content); got != h {
		return fmt.Errorf("%s reads as %s", h, got)
	}
	return nil
}
