package gitsource

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/stretchr/testify/require"
)

// A clone is kept only when what failed is the system's passing trouble;
// an error of the disk, or a damaged pack among packs that failed for
// want of file descriptors, starts it afresh.
func TestTransient(t *testing.T) {
	emfile := &os.PathError{Op: "open", Path: "pack-1.idx", Err: syscall.EMFILE}
	damaged := fmt.Errorf("pack-2.idx: %w: checksum mismatch", idxfile.ErrMalformedIdxFile)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"too many open files", emfile, true},
		{"interrupted, wrapped", fmt.Errorf("open clone: %w", syscall.EINTR), true},
		{"packs out of descriptors", errors.Join(emfile, &os.PathError{Op: "open", Err: syscall.ENFILE}), true},
		{"joined and wrapped", fmt.Errorf("open: %w", errors.Join(nil, emfile)), true},
		{"input/output error", &os.PathError{Op: "read", Path: "pack-1.pack", Err: syscall.EIO}, false},
		{"timed out", &os.PathError{Op: "read", Path: "pack-1.pack", Err: syscall.ETIMEDOUT}, false},
		{"damaged pack", damaged, false},
		{"a damaged pack among packs out of descriptors", errors.Join(emfile, damaged, emfile), false},
		{"the same, wrapped", fmt.Errorf("open: %w", errors.Join(emfile, damaged)), false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, transient(tc.err))
		})
	}
}
