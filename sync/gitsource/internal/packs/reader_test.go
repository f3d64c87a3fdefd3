package packs

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/stretchr/testify/require"
)

// Reading every object of a pack leaves nothing behind for each: go-git's
// reader of a pack keeps the type of every entry it read in a map of its
// own, 30,000 entries here, about 1 MB after a big repository's history
// was walked.
func TestReadsLeaveNoRecordPerObject(t *testing.T) {
	r := newRepo(t)
	const n = 30_000
	var in strings.Builder
	for i := range n {
		blob := fmt.Sprintf("object %d\n", i)
		fmt.Fprintf(&in, "blob\ndata %d\n%s\n", len(blob), blob)
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir, cmd.Stdin = r.dir, strings.NewReader(in.String())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	s, err := Open(r.packDir(), cache.NewObjectLRU(0))
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, 1, s.Count())
	ix := s.packs[0].idx
	require.Equal(t, n, ix.count())
	s.packs[0].idx.offsetOrder() // built at the first read, deltas or not: not what is measured

	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range ix.count() {
		_, err := s.Get(ix.hash(i))
		require.NoError(t, err)
	}
	runtime.GC()
	runtime.GC() // and the pools' victims
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("reading %d objects left %d KiB held", n, held>>10)
	require.Less(t, held, int64(400<<10))
}
