package gitsource_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"runtime"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

// insertDeltaFile pushes, as the branch's head, a commit of two files:
// base.yaml, and huge.yaml of size bytes, stored as a delta off
// base.yaml's blob made of insertions only, so that the delta is as long
// as the file (and deflates to almost nothing). It returns the commit.
func (u *upstream) insertDeltaFile(size int) string {
	u.t.Helper()
	var p packWriter
	base := []byte("a: 1\n")
	baseBlob := p.whole(plumbing.BlobObject, base)
	huge := bytes.Repeat([]byte("a"), size)
	var ops []byte
	for rest := size; rest > 0; rest -= 127 {
		n := min(rest, 127)
		ops = append(append(ops, byte(n)), huge[:n]...)
	}
	hugeBlob := p.delta(plumbing.BlobObject, p.last, len(base), huge, ops)
	var root []byte
	root = append(append(root, "100644 base.yaml\x00"...), baseBlob[:]...)
	root = append(append(root, "100644 huge.yaml\x00"...), hugeBlob[:]...)
	commit := p.commit(p.whole(plumbing.TreeObject, root))
	p.push(u, commit)
	return commit.String()
}

// A file's size is read from the first bytes of its delta, not from the
// delta inflated whole: telling the size of a file larger than
// MaxInMemory, stored as a delta as long, allocates next to nothing.
func TestStatOfDeltaInflatesNoDelta(t *testing.T) {
	const size = gitsource.MaxInMemory + 8<<20
	u := newUpstream(t)
	sha := u.insertDeltaFile(size)
	tree := deltaTree(t, u, sha, "blob", 1)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	info, err := fs.Stat(tree, "huge.yaml")
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.EqualValues(t, size, info.Size())
	allocated := after.TotalAlloc - before.TotalAlloc
	require.Less(t, allocated, uint64(1<<20), "Stat allocated %d bytes", allocated)

	_, err = fs.ReadFile(tree, "huge.yaml")
	require.ErrorIs(t, err, gitsource.ErrTooLarge)
	require.ErrorContains(t, err, fmt.Sprint(size))
}
