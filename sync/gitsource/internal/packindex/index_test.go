package packindex

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/stretchr/testify/require"
)

// The index of every kind of pack git makes is byte for byte the one git
// index-pack writes, whether bases are held in memory or in files.
func TestIndexMatchesGit(t *testing.T) {
	repo := history(t)
	packs := []struct {
		name string
		args []string
	}{
		{"offset deltas", []string{"--delta-base-offset"}},
		{"ref deltas", nil},
		{"deep chains", []string{"--delta-base-offset", "--depth=250", "--window=50"}},
		{"no deltas", []string{"--window=0"}},
	}
	budgets := []struct {
		name   string
		budget int64
	}{
		{"in memory", 16 << 20},
		{"in files", 0},
		{"both", 8 << 10},
	}
	for _, p := range packs {
		pack := packObjects(t, repo, "", append([]string{"--revs", "--all"}, p.args...)...)
		want := gitIndex(t, pack)
		for _, b := range budgets {
			t.Run(p.name+"/"+b.name, func(t *testing.T) {
				tmp := t.TempDir()
				got := index(t, pack, tmp, b.budget)
				require.Equal(t, want, got)
				left, err := os.ReadDir(tmp)
				require.NoError(t, err)
				require.Empty(t, left, "temporary files removed")
			})
		}
	}
}

// A thin pack's deltas name bases it does not hold: refused, as go-git's
// own intake refuses it.
func TestThinPackIsRefused(t *testing.T) {
	repo := history(t)
	pack := packObjects(t, repo, "HEAD\n^HEAD~3\n", "--revs", "--thin")
	cmd := exec.Command("git", "index-pack", "-o", filepath.Join(t.TempDir(), "x.idx"), pack)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the fixture must be thin")
	require.Contains(t, string(out), "unresolved deltas")

	f, err := os.Open(pack)
	require.NoError(t, err)
	defer f.Close()
	_, _, err = Index(f, t.TempDir(), 16<<20)
	require.ErrorIs(t, err, packfile.ErrReferenceDeltaNotFound)
}

func TestDamagedPackIsRefused(t *testing.T) {
	repo := history(t)
	pack := packObjects(t, repo, "", "--revs", "--all", "--delta-base-offset")
	orig, err := os.ReadFile(pack)
	require.NoError(t, err)
	cases := map[string][]byte{
		"truncated":  orig[:len(orig)/2],
		"no trailer": orig[:len(orig)-20],
		"flipped":    flip(orig, len(orig)/2),
		"bad sum":    flip(orig, len(orig)-1),
		"not a pack": []byte("PACK but not really"),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "p.pack")
			require.NoError(t, os.WriteFile(p, b, 0o600))
			f, err := os.Open(p)
			require.NoError(t, err)
			defer f.Close()
			_, _, err = Index(f, t.TempDir(), 16<<20)
			require.Error(t, err)
		})
	}
}

// A Writer puts pack and index where go-git looks, leaves nothing else,
// and writes nothing for an empty fetch.
func TestWriter(t *testing.T) {
	repo := history(t)
	pack := packObjects(t, repo, "", "--revs", "--all", "--delta-base-offset")
	b, err := os.ReadFile(pack)
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "objects", "pack")

	w, err := NewWriter(dir, 1<<10)
	require.NoError(t, err)
	for len(b) > 0 { // in pieces, as a fetch delivers it
		n := min(len(b), 1000)
		_, err := w.Write(b[:n])
		require.NoError(t, err)
		b = b[n:]
	}
	require.NoError(t, w.Close())
	idx := gitIndex(t, pack)
	var sum [20]byte
	copy(sum[:], idx[len(idx)-40:len(idx)-20]) // the pack's checksum, in its index
	names := list(t, dir)
	base := fmt.Sprintf("pack-%x", sum)
	require.Equal(t, []string{base + ".idx", base + ".pack"}, names)
	got, err := os.ReadFile(filepath.Join(dir, base+".idx"))
	require.NoError(t, err)
	require.Equal(t, idx, got)

	again, err := NewWriter(dir, 1<<10)
	require.NoError(t, err)
	require.NoError(t, again.Close())
	require.Equal(t, names, list(t, dir), "nothing received, nothing written")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "tmp_pack_123"), nil, 0o600))
	require.NoError(t, RemoveLeftovers(dir))
	require.Equal(t, names, list(t, dir))
}

func list(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func flip(b []byte, i int) []byte {
	out := bytes.Clone(b)
	out[i] ^= 0xff
	return out
}

// history makes a repository whose packs have deltas of every kind: a
// file edited commit after commit (blob chains), nested directories
// (tree chains), a merge, an annotated tag and an empty file.
func history(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "--quiet", "--initial-branch=main")
	var doc strings.Builder
	for i := range 400 {
		fmt.Fprintf(&doc, "- name: item-%d\n  value: %q\n", i, strings.Repeat("x", i%50))
	}
	lines := strings.SplitAfter(doc.String(), "\n")
	for c := range 30 {
		lines[(c*37)%len(lines)] = fmt.Sprintf("# edited in commit %d\n", c)
		write(t, dir, "team/values.yaml", strings.Join(lines, ""))
		write(t, dir, fmt.Sprintf("team/n%d/deep/file.yaml", c%5), fmt.Sprintf("commit: %d\n", c))
		write(t, dir, "empty", "")
		git(t, dir, "add", "-A")
		git(t, dir, "commit", "--quiet", "-m", fmt.Sprintf("commit %d", c))
		if c == 10 {
			git(t, dir, "tag", "-a", "-m", "a tag", "v1")
			git(t, dir, "checkout", "--quiet", "-b", "side")
			write(t, dir, "side.yaml", doc.String())
			git(t, dir, "add", "-A")
			git(t, dir, "commit", "--quiet", "-m", "side")
			git(t, dir, "checkout", "--quiet", "main")
		}
	}
	git(t, dir, "merge", "--quiet", "--no-edit", "side")
	return dir
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
}

func git(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	return gitIn(t, dir, "", args...)
}

func gitIn(t *testing.T, dir, stdin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_AUTHOR_DATE=2025-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2025-01-01T00:00:00Z")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "git %s: %s", strings.Join(args, " "), stderr.String())
	return out
}

// packObjects writes the pack git pack-objects makes of revs.
func packObjects(t *testing.T, repo, revs string, args ...string) string {

	t.Helper()
	b := gitIn(t, repo, revs, append([]string{"pack-objects", "--stdout", "--quiet"}, args...)...)
	p := filepath.Join(t.TempDir(), "test.pack")
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

// gitIndex is the .idx git index-pack writes for pack.
func gitIndex(t *testing.T, pack string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "git.idx")
	git(t, filepath.Dir(pack), "index-pack", "-o", out, pack)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	return b
}

func index(t *testing.T, pack, tmp string, budget int64) []byte {
	t.Helper()
	f, err := os.Open(pack)
	require.NoError(t, err)
	defer f.Close()
	objs, sum, err := Index(f, tmp, budget)
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "ours.idx")
	require.NoError(t, objs.WriteIndex(out, sum))
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	return b
}
