package packindex

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A pack and its index are synced under their temporary names, and the
// directory after both are renamed: only then may packs merged into them
// be removed, else a power cut can bring the new pack back zero-filled
// with the packs it replaced gone.
func TestWriterSyncsBeforeAndAfterRenaming(t *testing.T) {
	repo := history(t)
	pack := packObjects(t, repo, "", "--revs", "--all", "--delta-base-offset")
	b, err := os.ReadFile(pack)
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "objects", "pack")

	var synced []string
	placed := func() int {
		n := 0
		for _, name := range list(t, dir) {
			if strings.HasPrefix(name, "pack-") {
				n++
			}
		}
		return n
	}
	syncFile = func(f *os.File) error {
		name := filepath.Base(f.Name())
		if f.Name() == dir {
			name = "dir"
		}
		synced = append(synced, name+" with "+string(rune('0'+placed()))+" placed")
		return f.Sync()
	}
	t.Cleanup(func() { syncFile = func(f *os.File) error { return f.Sync() } })

	w, err := NewWriter(dir, 1<<10)
	require.NoError(t, err)
	_, err = w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Len(t, synced, 3, "%q", synced)
	require.Regexp(t, `^tmp_pack_\d+ with 0 placed$`, synced[0])
	require.Regexp(t, `^tmp_idx_\d+ with 0 placed$`, synced[1])
	require.Equal(t, "dir with 2 placed", synced[2])
}
