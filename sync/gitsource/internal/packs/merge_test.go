package packs

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource/internal/packindex"
)

// merge runs what sync/gitsource does: pick, merge, replace.
func merge(t *testing.T, r *repo, max int) error {
	t.Helper()
	s, err := Open(r.packDir(), cache.NewObjectLRU(1<<20))
	require.NoError(t, err)
	defer s.Close()
	ids := s.ToMerge(max)
	if ids == nil {
		return nil
	}
	id, err := Merge(r.packDir(), ids)
	if err != nil {
		return err
	}
	requireIndexAsGits(t, r, id)
	return s.Replace(id, ids)
}

func TestMergeLeavesOnePackWithEveryObject(t *testing.T) {
	r := newRepo(t)
	r.commits(40, true)
	require.Equal(t, 40, r.packCount())
	require.NoError(t, merge(t, r, 40), "not more than the limit: nothing to merge")
	require.Equal(t, 40, r.packCount())

	require.NoError(t, merge(t, r, 8))
	require.LessOrEqual(t, r.packCount(), 2)
	requireAllReadable(t, r)

	r.commits(10, true)
	require.NoError(t, merge(t, r, 8))
	require.LessOrEqual(t, r.packCount(), 2)
	requireAllReadable(t, r)
}

// A merge killed at any step leaves every object readable; what it left is
// cleared when the clone is opened again, and the next merge completes.
func TestMergeKilledLeavesAReadableClone(t *testing.T) {
	for _, step := range []string{"copying", "placed"} {
		t.Run(step, func(t *testing.T) {
			r := newRepo(t)
			r.commits(12, true)
			killed := errors.New("killed")
			Fault = func(s string) error {
				if s == step {
					return killed
				}
				return nil
			}
			err := merge(t, r, 4)
			Fault = nil
			require.ErrorIs(t, err, killed)
			requireAllReadable(t, r)
			if step == "copying" {
				require.Equal(t, 12, r.packCount())
				require.NotEmpty(t, leftovers(t, r), "the half-written pack stays, as after a kill")
			} else {
				require.Equal(t, 13, r.packCount(), "the merged pack is in place, the others not yet removed")
			}

			require.NoError(t, merge(t, r, 4))
			require.Equal(t, 1, r.packCount())
			requireAllReadable(t, r)
		})
	}
}

func leftovers(t *testing.T, r *repo) []string {
	entries, err := os.ReadDir(r.packDir())
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tmp_") {
			out = append(out, e.Name())
		}
	}
	return out
}

// Merging packs that hold a file far larger than the budget copies it
// compressed, never whole in memory.
func TestMergeMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 64 MiB file")
	}
	r := newRepo(t)
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = "0123456789abcdef\n"[(i*7+i/4096)%17]
	}
	require.NoError(t, os.WriteFile(filepath.Join(r.dir, "dump.yaml"), big, 0o644))
	big = nil
	r.git("add", "-A")
	r.git("commit", "--quiet", "-m", "big")
	r.git("repack", "-d", "-q")
	r.commits(6, true)
	require.NoError(t, Fault0(t))

	all, err := list(r.packDir())
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	id, err := Merge(r.packDir(), all)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	s, err := Open(r.packDir(), cache.NewObjectLRU(1<<20))
	require.NoError(t, err)
	require.NoError(t, s.Replace(id, all))
	require.NoError(t, s.Close())
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("merging packs holding a 64 MiB file allocated %d KiB", allocated>>10)
	require.Less(t, allocated, uint64(16<<20))
	require.Equal(t, 1, r.packCount())
	requireAllReadable(t, r)
}

// Fault0 checks no test left a fault set.
func Fault0(t *testing.T) error {
	t.Helper()
	if Fault != nil {
		return errors.New("a fault is still set")
	}
	return nil
}

// The directory is synced once the packs merged are removed from it:
// before that a power cut can bring a removed pack back, and the next
// merge copy its objects again.
func TestReplaceSyncsTheDirectoryAfterRemoving(t *testing.T) {
	r := newRepo(t)
	r.commits(6, true)
	var synced [][]string // the packs' files present at each sync
	syncDir = func(dir string) error {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "pack-") {
				names = append(names, e.Name())
			}
		}
		synced = append(synced, names)
		return packindex.SyncDir(dir)
	}
	t.Cleanup(func() { syncDir = packindex.SyncDir })

	require.NoError(t, merge(t, r, 2))
	ids, err := list(r.packDir())
	require.NoError(t, err)
	require.Len(t, ids, 1)
	merged := "pack-" + ids[0].String()
	require.Equal(t, [][]string{{merged + ".idx", merged + ".pack"}}, synced,
		"one sync, after the packs merged are removed")
}

// Replace's error says whether the Set reads the merged pack: once it
// does, a failure after (here the directory's sync) is no failed merge.
func TestReplaceSaysWhetherTheMergedPackIsRead(t *testing.T) {
	r := newRepo(t)
	r.commits(6, true)
	full := errors.New("no space left on device")
	syncDir = func(string) error { return full }
	t.Cleanup(func() { syncDir = packindex.SyncDir })

	err := merge(t, r, 2)
	require.ErrorIs(t, err, full)
	require.NotErrorIs(t, err, ErrMergedNotRead)
	require.ErrorContains(t, err, "sync the pack directory")
	require.Equal(t, 1, r.packCount(), "the packs merged are removed")
	requireAllReadable(t, r)

	s, err := Open(r.packDir(), cache.NewObjectLRU(1<<20))
	require.NoError(t, err)
	defer s.Close()
	ids, err := list(r.packDir())
	require.NoError(t, err)
	require.ErrorIs(t, s.Replace(plumbing.ZeroHash, ids), ErrMergedNotRead)
	require.Equal(t, 1, s.Count(), "the pack read is kept")
}
