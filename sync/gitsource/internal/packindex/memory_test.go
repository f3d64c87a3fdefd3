package packindex

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/heappeak"
)

// What indexing holds grows with a pack's objects by a few tens of bytes
// each, not by a record of hundreds: 200,000 small blobs (a big
// repository's count in small) index within 100 bytes an object of heap
// at the peak, garbage collected often (it was 320).
func TestIndexHoldsLittlePerObject(t *testing.T) {
	if testing.Short() {
		t.Skip("packs 200,000 objects")
	}
	const n = 200_000
	dir := t.TempDir()
	git(t, dir, "init", "--quiet", "--bare")
	var in strings.Builder
	for i := range n {
		blob := fmt.Sprintf("object %d\n", i)
		fmt.Fprintf(&in, "blob\ndata %d\n%s\n", len(blob), blob)
	}
	gitIn(t, dir, in.String(), "fast-import", "--quiet")
	packs, err := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	require.NoError(t, err)
	require.Len(t, packs, 1)
	f, err := os.Open(packs[0])
	require.NoError(t, err)
	defer f.Close()

	defer debug.SetGCPercent(debug.SetGCPercent(10))
	var objs *Objects
	peak := heappeak.Measure(t.Name(), 1<<30, func() {
		objs, _, err = Index(f, t.TempDir(), 1<<20)
	})
	require.NoError(t, err)
	require.Equal(t, n, objs.Len())
	t.Logf("indexing %d objects: heap peak %d KiB, %d bytes an object", n, peak>>10, peak/n)
	require.Less(t, peak/n, uint64(100))
}
