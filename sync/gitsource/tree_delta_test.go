package gitsource_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

// deltaEntryBytes is the size of an entry of the base tree deltaDirs
// writes: "100644 " and a name of seven digits, a NUL and a blob's id.
const deltaEntryBytes = 7 + 7 + 1 + 20

// deltaDirs pushes, as the branch's head, a commit whose root holds a
// directory big, of a tree of base bytes, and n directories d000, d001,
// ... of one entry each, every one stored in the pack as a delta off big's
// tree: what git never writes (a small tree is not deltified off a big
// one) but a pack may hold. The pack is the upstream's own, indexed by
// git; the fetch sends the deltas as they are. It returns the commit.
func (u *upstream) deltaDirs(base, n int) string {
	u.t.Helper()
	var p packWriter
	empty := p.whole(plumbing.BlobObject, nil)

	var big bytes.Buffer
	for i := 0; big.Len()+deltaEntryBytes <= base; i++ {
		fmt.Fprintf(&big, "100644 %07d\x00", i)
		big.Write(empty[:])
	}
	require.GreaterOrEqual(u.t, big.Len()/deltaEntryBytes, n)
	bigTree := p.whole(plumbing.TreeObject, big.Bytes())
	baseAt := p.last

	root := append([]byte("40000 big\x00"), bigTree[:]...)
	for i := range n {
		off := i * deltaEntryBytes
		entry := big.Bytes()[off : off+deltaEntryBytes]
		h := p.delta(plumbing.TreeObject, baseAt, big.Len(), entry, copyOp(off, deltaEntryBytes))
		root = append(fmt.Appendf(root, "40000 d%03d\x00", i), h[:]...)
	}
	commit := p.commit(p.whole(plumbing.TreeObject, root))
	p.push(u, commit)
	return commit.String()
}

// deltaTree fetches commit sha of u into a new Source and returns its
// tree, once it checked that the clone holds n objects of type typ as
// deltas off a whole object, as the pack pushed holds them: the fetch sent
// them so.
func deltaTree(t *testing.T, u *upstream, sha, typ string, n int) fs.FS {
	t.Helper()
	cache := t.TempDir()
	src := newSource(t, gitsource.Options{URL: u.url(), CacheDir: cache})
	syncTo(t, src, sha)
	idx, err := filepath.Glob(filepath.Join(cache, "*", "objects", "pack", "*.idx"))
	require.NoError(t, err)
	require.Len(t, idx, 1)
	out, err := exec.Command("git", "verify-pack", "-v", idx[0]).CombinedOutput()
	require.NoError(t, err, "%s", out)
	deltas := 0
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 7 && f[1] == typ && f[5] == "1" {
			deltas++
		}
	}
	require.Equal(t, n, deltas, "%ss stored as deltas in the clone", typ)
	tree, err := src.Tree(sha)
	require.NoError(t, err)
	return tree
}

// A directory whose tree is a small delta off a base larger than
// MaxInMemory is refused as the base would be, naming it, before the base
// is inflated: its header says nothing of the base.
func TestDeltaOffBigBaseIsRefused(t *testing.T) {
	u := newUpstream(t)
	sha := u.deltaDirs(gitsource.MaxInMemory+1<<20, 4)
	tree := deltaTree(t, u, sha, "tree", 4)

	for i := range 4 {
		dir := fmt.Sprintf("d%03d", i)
		_, err := fs.ReadDir(tree, dir)
		require.ErrorIs(t, err, gitsource.ErrDirTooLarge, dir)
		require.ErrorIs(t, err, fs.ErrInvalid, "the commit's fault")
		require.ErrorContains(t, err, "delta")
		_, err = fs.Stat(tree, dir+"/0000000")
		require.ErrorContains(t, err, dir+": directory too large", "names the directory walked through")
	}
	root, err := fs.ReadDir(tree, ".")
	require.NoError(t, err)
	require.Len(t, root, 5)
}

// A directory whose tree is a delta costs the Tree what rebuilding it
// inflates, its base included: one base re-inflated for each of many
// small directories is charged each time, so a walk through them stops
// within MaxTreeBytes of bases inflated, naming the directory.
func TestDeltaBaseIsChargedEachRead(t *testing.T) {
	const base, n = 4 << 20, 40
	u := newUpstream(t)
	sha := u.deltaDirs(base, n)
	tree := deltaTree(t, u, sha, "tree", n)

	var err error
	read := 0
	for ; read < n; read++ {
		if _, err = fs.ReadDir(tree, fmt.Sprintf("d%03d", read)); err != nil {
			break
		}
	}
	require.ErrorIs(t, err, fs.ErrInvalid, "the commit's fault")
	require.ErrorContains(t, err, fmt.Sprintf("d%03d: too many bytes of git trees", read))
	require.Equal(t, int(gitsource.MaxTreeBytes/base)-1, read, "each directory charged its base, the root too")
}

// deltaFile pushes, as the branch's head, a commit of big.yaml, of base
// bytes, and small.yaml and link (a symlink to small.yaml), small deltas
// off big.yaml's blob. It returns the commit.
func (u *upstream) deltaFile(base int) string {
	u.t.Helper()
	var p packWriter
	line := []byte("small.yaml\n")
	big := bytes.Repeat(line, base/len(line))
	bigBlob := p.whole(plumbing.BlobObject, big)
	baseAt := p.last
	small := p.delta(plumbing.BlobObject, baseAt, len(big), line, copyOp(0, len(line)))
	link := p.delta(plumbing.BlobObject, baseAt, len(big), line[:len(line)-1], copyOp(0, len(line)-1))
	var root []byte
	for _, e := range []struct {
		mode, name string
		h          plumbing.Hash
	}{{"100644", "big.yaml", bigBlob}, {"120000", "link", link}, {"100644", "small.yaml", small}} {
		root = append(fmt.Appendf(root, "%s %s\x00", e.mode, e.name), e.h[:]...)
	}
	commit := p.commit(p.whole(plumbing.TreeObject, root))
	p.push(u, commit)
	return commit.String()
}

// A file whose blob is a small delta off a base larger than MaxInMemory
// is refused as the base would be, before the base is inflated, and so is
// a symlink's target; its size is still told.
func TestFileDeltaOffBigBaseIsRefused(t *testing.T) {
	u := newUpstream(t)
	sha := u.deltaFile(gitsource.MaxInMemory + 1<<20)
	tree := deltaTree(t, u, sha, "blob", 2)

	_, err := fs.ReadFile(tree, "small.yaml")
	require.ErrorIs(t, err, gitsource.ErrTooLarge)
	require.ErrorIs(t, err, fs.ErrInvalid, "the commit's fault")
	require.ErrorContains(t, err, "delta")
	f, err := tree.Open("small.yaml")
	require.NoError(t, err)
	_, err = f.Read(make([]byte, 64))
	require.ErrorIs(t, err, gitsource.ErrTooLarge)
	require.NoError(t, f.Close())
	info, err := fs.Stat(tree, "small.yaml")
	require.NoError(t, err)
	require.EqualValues(t, len("small.yaml\n"), info.Size())
	_, err = fs.Stat(tree, "link")
	require.ErrorIs(t, err, gitsource.ErrTooLarge)
}

// BenchmarkDeltaDirs reads directories whose trees are small deltas off
// one big base, with a Tree each time as a render takes one: every
// directory of 200 off a base of 4 MiB (until the Tree refuses one), and
// one directory off a base larger than MaxInMemory.
func BenchmarkDeltaDirs(b *testing.B) {
	for _, bc := range []struct {
		name    string
		base, n int
	}{
		{"base=4MiB/dirs=200", 4 << 20, 200},
		{"base=17MiB/dirs=1", gitsource.MaxInMemory + 1<<20, 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			u := newUpstream(b)
			sha := u.deltaDirs(bc.base, bc.n)
			src, err := gitsource.New(gitsource.Options{URL: u.url(), CacheDir: b.TempDir()})
			require.NoError(b, err)
			head, err := src.Sync(context.Background())
			require.NoError(b, err)
			require.Equal(b, sha, head)
			read := 0
			b.ReportAllocs()
			for b.Loop() {
				tree, err := src.Tree(sha)
				require.NoError(b, err)
				for read = 0; read < bc.n; read++ {
					if _, err := fs.ReadDir(tree, fmt.Sprintf("d%03d", read)); err != nil {
						break
					}
				}
			}
			b.ReportMetric(float64(read), "dirs-read")
		})
	}
}
