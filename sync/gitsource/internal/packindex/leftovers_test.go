package packindex

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// What no Writer leaves whole goes when the clone is opened: a pack and
// its index are removed with no directory sync between them, so a power
// cut can keep either without the other, and a pack without its index is
// never read (nor placed again by a fetch that brings it, which finds it
// there).
func TestRemoveLeftoversRemovesHalvesOfPacks(t *testing.T) {
	dir := t.TempDir()
	whole, noIndex, noPack := "pack-"+strings.Repeat("a", 40), "pack-"+strings.Repeat("b", 40), "pack-"+strings.Repeat("c", 40)
	for _, name := range []string{whole + ".pack", whole + ".idx", noIndex + ".pack", noPack + ".idx", "tmp_pack_123", "tmp_idx_456"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o600))
	}
	require.NoError(t, RemoveLeftovers(dir))
	require.Equal(t, []string{whole + ".idx", whole + ".pack"}, list(t, dir))
}
