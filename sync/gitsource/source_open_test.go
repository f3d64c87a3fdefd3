package gitsource_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

// clonedPacks makes a clone of several packs in cache and returns the
// head it was synced to.
func clonedPacks(t *testing.T, u *upstream, cache string) string {
	t.Helper()
	src := newSource(t, gitsource.Options{URL: u.url(), CacheDir: cache})
	var head string
	for i := range 6 {
		head = u.commit(fmt.Sprint("commit ", i), map[string]string{"team/cm.yaml": fmt.Sprintf("n: %d\n", i)})
		syncTo(t, src, head)
	}
	return head
}

// A clone whose packs cannot be opened for want of file descriptors is
// not wiped (the 200 MB of a big repository fetched again): opening it
// fails, and it opens whole once descriptors are free. Not parallel: it
// lowers the process's limit of open files for a moment.
func TestCloneKeptWhenOpeningFailsForTheSystem(t *testing.T) {
	u := newUpstream(t)
	cache := t.TempDir()
	head := clonedPacks(t, u, cache)
	packs, err := filepath.Glob(filepath.Join(cache, "*", "objects", "pack", "*.pack"))
	require.NoError(t, err)
	require.Greater(t, len(packs), 3)

	open, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	var limit syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit))
	lowered := limit
	lowered.Cur = uint64(len(open) + 2) // room for a pack or two, not six
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered))
	_, err = gitsource.New(gitsource.Options{URL: u.url(), CacheDir: cache})
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &limit))
	require.ErrorIs(t, err, syscall.EMFILE)

	again := newSource(t, gitsource.Options{URL: u.url(), CacheDir: cache})
	syncTo(t, again, head)
	require.EqualValues(t, 0, again.Fetches(), "the clone was kept")
}

// A clone whose index is damaged is only a cache: it is started afresh.
func TestDamagedCloneIsStartedAfresh(t *testing.T) {
	u := newUpstream(t)
	cache := t.TempDir()
	head := clonedPacks(t, u, cache)
	idxs, err := filepath.Glob(filepath.Join(cache, "*", "objects", "pack", "*.idx"))
	require.NoError(t, err)
	require.NotEmpty(t, idxs)
	b, err := os.ReadFile(idxs[0])
	require.NoError(t, err)
	b[len(b)/2] ^= 0x40
	require.NoError(t, os.Chmod(idxs[0], 0o600))
	require.NoError(t, os.WriteFile(idxs[0], b, 0o600))

	again := newSource(t, gitsource.Options{URL: u.url(), CacheDir: cache})
	syncTo(t, again, head)
	require.EqualValues(t, 1, again.Fetches(), "fetched whole again")
}

// A damaged pack is not hidden by packs that then fail for want of file
// descriptors: the clone is started afresh rather than kept, and failing,
// at every start. Not parallel: it lowers the process's limit of open
// files for a moment.
func TestDamagedCloneStartedAfreshAmongPacksOutOfDescriptors(t *testing.T) {
	u := newUpstream(t)
	cache := t.TempDir()
	head := clonedPacks(t, u, cache)
	more := newSource(t, gitsource.Options{URL: u.url(), CacheDir: cache})
	for i := range 2 {
		head = u.commit(fmt.Sprint("more ", i), map[string]string{"team/cm.yaml": fmt.Sprintf("m: %d\n", i)})
		syncTo(t, more, head)
	}
	idxs, err := filepath.Glob(filepath.Join(cache, "*", "objects", "pack", "*.idx"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(idxs), 8)
	b, err := os.ReadFile(idxs[0]) // read first: damaged before descriptors run out
	require.NoError(t, err)
	b[len(b)/2] ^= 0x40
	require.NoError(t, os.Chmod(idxs[0], 0o600))
	require.NoError(t, os.WriteFile(idxs[0], b, 0o600))

	var limit syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit))
	lowered := limit
	lowered.Cur = 256
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered))
	var held []*os.File // all descriptors but six: six packs open, not seven; the clone removed
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			require.ErrorIs(t, err, syscall.EMFILE)
			break
		}
		held = append(held, f)
	}
	require.Greater(t, len(held), 6)
	for _, f := range held[len(held)-6:] {
		require.NoError(t, f.Close())
	}
	src, err := gitsource.New(gitsource.Options{URL: u.url(), CacheDir: cache})
	for _, f := range held[:len(held)-6] {
		require.NoError(t, f.Close())
	}
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &limit))
	require.NoError(t, err, "started afresh, not kept")
	syncTo(t, src, head)
	require.EqualValues(t, 1, src.Fetches(), "fetched whole again")
}
