package gitsource_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

// oneEntryDirs commits, on top of the head, n directories d00, d01, ...
// at the root, each of one empty file named with name bytes, and pushes
// it. It returns the commit and the files' paths. The names differ
// throughout, so that git stores no tree as a delta off another (which
// would cost more to read).
func (u *upstream) oneEntryDirs(n, name int) (string, []string) {
	u.t.Helper()
	empty := u.git(u.work, "hash-object", "-w", "--stdin")
	root := u.git(u.work, "ls-tree", "HEAD")
	var files []string
	for i := 0; i < n; i++ {
		file := fmt.Sprintf("%02d%s", i, unlike(i, name-2))
		sub := u.gitIn(fmt.Sprintf("100644 blob %s\t%s\n", empty, file), "mktree")
		dir := fmt.Sprintf("d%02d", i)
		root += fmt.Sprintf("\n040000 tree %s\t%s", sub, dir)
		files = append(files, dir+"/"+file)
	}
	sha := u.git(u.work, "commit-tree", "-p", "HEAD", "-m", "dirs", u.gitIn(root+"\n", "mktree"))
	u.git(u.work, "update-ref", "HEAD", sha)
	u.push()
	return sha, files
}

// unlike is n hex digits that share no run with those of another i.
func unlike(i, n int) string {
	var b strings.Builder
	for sum := sha256.Sum256([]byte{byte(i)}); b.Len() < n; sum = sha256.Sum256(sum[:]) {
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()[:n]
}

// An entry named with more than MaxNameBytes is the commit's fault, told
// naming the directory that holds it; one of MaxNameBytes is read.
func TestLongNameIsRefused(t *testing.T) {
	u := newUpstream(t)
	u.commit("first", map[string]string{"team/a.yaml": "a: 1\n"})
	sha, files := u.oneEntryDirs(2, gitsource.MaxNameBytes)
	empty := u.git(u.work, "hash-object", "-w", "--stdin")
	long := u.gitIn(fmt.Sprintf("100644 blob %s\t%s\n", empty, strings.Repeat("y", gitsource.MaxNameBytes+1)), "mktree")
	root := u.git(u.work, "ls-tree", sha) + fmt.Sprintf("\n040000 tree %s\tlong\n", long)
	sha = u.git(u.work, "commit-tree", "-p", sha, "-m", "long", u.gitIn(root, "mktree"))
	u.git(u.work, "update-ref", "HEAD", sha)
	u.push()
	src := newSource(t, gitsource.Options{URL: u.url()})
	syncTo(t, src, sha)
	tree, err := src.Tree(sha)
	require.NoError(t, err)

	_, err = fs.ReadDir(tree, "long")
	require.ErrorIs(t, err, gitsource.ErrNameTooLong)
	require.ErrorIs(t, err, fs.ErrInvalid, "the commit's fault")
	require.ErrorContains(t, err, fmt.Sprintf("more than %d", gitsource.MaxNameBytes))
	_, err = fs.Stat(tree, "long/y")
	require.ErrorIs(t, err, gitsource.ErrNameTooLong)
	require.ErrorContains(t, err, "long: name too long", "names the directory walked through")

	_, err = fs.Stat(tree, files[1])
	require.NoError(t, err)
	_, err = fs.ReadFile(tree, "team/a.yaml")
	require.NoError(t, err)
}

// What a Tree reads of git trees is bounded in total, each distinct tree
// counted once whether the cache holds it or not: a walk through many
// small directories fails past the bound, naming the directory, at the
// same directory for a Tree that finds them all cached; reading a
// directory again costs nothing.
func TestTreeBytesAreBoundedPerTree(t *testing.T) {
	u := newUpstream(t)
	u.commit("first", map[string]string{"team/a.yaml": "a: 1\n"})
	sha, files := u.oneEntryDirs(24, 900)
	src := newSource(t, gitsource.Options{URL: u.url()})
	syncTo(t, src, sha)
	const limit = 12 << 10 // the root and about ten of the directories

	walk := func() (int, error) {
		tree, err := src.Tree(sha)
		require.NoError(t, err)
		tree.(interface{ LimitTreeBytes(int64) }).LimitTreeBytes(limit)
		for i, f := range files {
			if _, err := fs.Stat(tree, f); err != nil {
				return i, err
			}
			for _, again := range files[:i] {
				_, err := fs.Stat(tree, again)
				require.NoError(t, err, "a tree read before is not charged again")
			}
		}
		return len(files), nil
	}
	n, err := walk()
	require.Error(t, err)
	require.ErrorIs(t, err, fs.ErrInvalid, "the commit's fault")
	require.ErrorContains(t, err, fmt.Sprintf("d%02d: too many bytes of git trees", n))
	require.ErrorContains(t, err, fmt.Sprintf("more than %d bytes", limit))
	require.Greater(t, n, 5)
	require.Less(t, n, 15)

	again, err := walk()
	require.Equal(t, n, again, "the cache holds every tree now: the verdict is the same")
	require.Error(t, err)

	tree, err := src.Tree(sha)
	require.NoError(t, err)
	for _, f := range files {
		_, err := fs.Stat(tree, f)
		require.NoError(t, err, "within MaxTreeBytes")
	}
}
