package benchenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/syncgate/syncgate/sync/render"
)

// The agent a benchmark runs is installed as an image would be: none of
// its pages, or its build program's, left in the page cache by the
// linker, which writes its output through a shared mapping.
func TestBuildInstallsAsAnImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent")
	}
	dir := t.TempDir()
	bin, err := Build(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{bin, filepath.Join(filepath.Dir(bin), render.ProgramName)} {
		if n := resident(t, path); n > 0 {
			t.Errorf("%s: %d pages in the page cache", path, n)
		}
	}
}

// resident counts the pages of path in the page cache.
func resident(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}
