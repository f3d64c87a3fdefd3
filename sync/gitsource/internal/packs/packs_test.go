package packs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/stretchr/testify/require"
)

// repo is a git repository made with the git binary.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "--quiet", "--initial-branch=main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	require.NoError(r.t, err, "git %s: %s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

func (r *repo) packDir() string { return filepath.Join(r.dir, ".git", "objects", "pack") }

// commits makes n commits, each changing a line of a file big enough to be
// stored as a delta, each packed on its own when packEach (one pack per
// commit, as go-git's fetches leave them).
func (r *repo) commits(n int, packEach bool) {
	r.t.Helper()
	for i := range n {
		var b strings.Builder
		for l := range 400 {
			fmt.Fprintf(&b, "line %d of a config file %d\n", l, l*i%7)
		}
		require.NoError(r.t, os.WriteFile(filepath.Join(r.dir, "big.yaml"), []byte(b.String()), 0o644))
		require.NoError(r.t, os.WriteFile(filepath.Join(r.dir, fmt.Sprintf("f%d.yaml", i%5)), fmt.Appendf(nil, "n: %d\n", i), 0o644))
		r.git("add", "-A")
		r.git("commit", "--quiet", "-m", fmt.Sprint("commit ", i))
		if packEach {
			r.git("repack", "-d", "-q")
		}
	}
}

// objects are every object of the history.
func (r *repo) objects() []plumbing.Hash {
	var out []plumbing.Hash
	for _, line := range strings.Split(r.git("rev-list", "--objects", "--all"), "\n") {
		out = append(out, plumbing.NewHash(strings.Fields(line)[0]))
	}
	return out
}

func (r *repo) packCount() int {
	ids, err := list(r.packDir())
	require.NoError(r.t, err)
	return len(ids)
}

// requireAllReadable reads every object through a fresh Set and checks
// its content against its name; git fsck checks the packs too.
func requireAllReadable(t *testing.T, r *repo) {
	t.Helper()
	s, err := Open(r.packDir(), cache.NewObjectLRU(1<<20))
	require.NoError(t, err)
	defer s.Close()
	requireAllReadableFrom(t, r, s)
}

func requireAllReadableFrom(t *testing.T, r *repo, s *Set) {
	t.Helper()
	objs := r.objects()
	require.NotEmpty(t, objs)
	for _, h := range objs {
		o, err := s.Get(h)
		require.NoError(t, err, "object %s", h)
		rd, err := o.Reader()
		require.NoError(t, err)
		content, err := io.ReadAll(rd)
		require.NoError(t, err)
		require.NoError(t, rd.Close())
		require.Equal(t, h, plumbing.ComputeHash(o.Type(), content), "content of %s", h)
		size, err := s.Size(h)
		require.NoError(t, err)
		require.EqualValues(t, len(content), size)
	}
	r.git("fsck", "--strict", "--no-dangling")
}

func TestIndexAnswersAsGoGits(t *testing.T) {
	r := newRepo(t)
	r.commits(30, false)
	r.git("repack", "-a", "-d", "-f", "-q", "--window=50")
	ids, err := list(r.packDir())
	require.NoError(t, err)
	require.Len(t, ids, 1)
	name := filepath.Join(r.packDir(), "pack-"+ids[0].String()+".idx")
	ours, err := readIndex(name)
	require.NoError(t, err)
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	theirs := idxfile.NewMemoryIndex()
	require.NoError(t, idxfile.NewDecoder(f).Decode(theirs))

	for _, byOffset := range []bool{false, true} {
		want, got := entries(t, theirs, byOffset), entries(t, ours, byOffset)
		require.Equal(t, want, got)
		for _, e := range want {
			off, err := ours.FindOffset(e.Hash)
			require.NoError(t, err)
			require.EqualValues(t, e.Offset, off)
			h, err := ours.FindHash(int64(e.Offset))
			require.NoError(t, err)
			require.Equal(t, e.Hash, h)
			crc, err := ours.FindCRC32(e.Hash)
			require.NoError(t, err)
			require.Equal(t, e.CRC32, crc)
		}
	}
	_, err = ours.FindOffset(plumbing.NewHash("00000000000000000000000000000000000000ff"))
	require.ErrorIs(t, err, plumbing.ErrObjectNotFound)
	_, err = ours.FindHash(1)
	require.ErrorIs(t, err, plumbing.ErrObjectNotFound)
}

func entries(t *testing.T, ix idxfile.Index, byOffset bool) []idxfile.Entry {
	it, err := ix.Entries()
	if byOffset {
		it, err = ix.EntriesByOffset()
	}
	require.NoError(t, err)
	defer it.Close()
	var out []idxfile.Entry
	for {
		e, err := it.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, *e)
	}
}

func TestEntryHeaderRoundTrips(t *testing.T) {
	for _, e := range []entry{
		{typ: plumbing.BlobObject, size: 0},
		{typ: plumbing.TreeObject, size: 15},
		{typ: plumbing.CommitObject, size: 16},
		{typ: plumbing.BlobObject, size: 1<<40 + 12345},
		{typ: plumbing.OFSDeltaObject, size: 300, distance: 1},
		{typ: plumbing.OFSDeltaObject, size: 300, distance: 127},
		{typ: plumbing.OFSDeltaObject, size: 300, distance: 128},
		{typ: plumbing.OFSDeltaObject, size: 300, distance: 16511},
		{typ: plumbing.OFSDeltaObject, size: 300, distance: 1 << 40},
		{typ: plumbing.REFDeltaObject, size: 7, ref: plumbing.NewHash("0123456789abcdef0123456789abcdef01234567")},
	} {
		h := e.header()
		got, err := parseEntry(append(bytes.Clone(h), 0x78, 0x9c))
		require.NoError(t, err)
		e.length = len(h)
		require.Equal(t, e, got)
	}
	_, err := parseEntry([]byte{0x80 | 0x30})
	require.ErrorIs(t, err, errHeader)
}
