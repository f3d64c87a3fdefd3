package packindex

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// Writer takes in a pack as a fetch streams it: the bytes go to a
// temporary file in the pack directory; Close indexes them and puts the
// pack and its index in place. It is a storer.PackfileWriter's writer.
type Writer struct {
	dir    string
	budget int64
	f      *os.File
	n      int64

	// LargeOffsets, when not zero, is the offset past which the index
	// puts an object's offset in the table of 64-bit offsets, as git
	// index-pack --index-version=2,<LargeOffsets> does: tests set a
	// small one to have a small pack exercise the table.
	LargeOffsets int64
}

func (w *Writer) largeOffsets() int64 {
	if w.LargeOffsets == 0 {
		return maxOffset32
	}
	return w.LargeOffsets
}

// tmpPrefix names what a Writer leaves behind if the process dies.
const tmpPrefix = "tmp_"

// NewWriter starts a pack in dir (a repository's objects/pack), to be
// indexed within budget bytes of object content in memory.
func NewWriter(dir string, budget int64) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"pack_")
	if err != nil {
		return nil, err
	}
	return &Writer{dir: dir, budget: budget, f: f}, nil
}

func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.n += int64(n)
	return n, err
}

// Close indexes the pack and moves it, index first, to
// pack-<checksum>.pack and .idx, where go-git's object store looks; an
// object store that already read the pack directory must be told to
// read it again. Nothing received is nothing written.
func (w *Writer) Close() error {
	if w.n == 0 {
		return w.place(nil, plumbing.ZeroHash)
	}
	objs, sum, err := Index(w.f, w.dir, w.budget)
	if err != nil {
		return errors.Join(fmt.Errorf("index pack: %w", err), w.place(nil, plumbing.ZeroHash))
	}
	return w.place(objs, sum)
}

// CloseIndexed puts the pack in place as Close does, with the index of
// objs, the objects it holds, instead of indexing it: for a writer that
// knows them (packs.Merge), and wrote the pack's checksum sum last.
func (w *Writer) CloseIndexed(objs *Objects, sum plumbing.Hash) error {
	return w.place(objs, sum)
}

// place syncs the pack, writes the index of objs (synced) and renames
// the pack beside it, then syncs the directory, so that once it returns
// both are on disk whatever happens to the machine; with no objects, it
// only drops what was written.
func (w *Writer) place(objs *Objects, sum plumbing.Hash) (err error) {
	tmp := w.f.Name()
	defer func() {
		err = errors.Join(err, w.f.Close())
		if rmErr := os.Remove(tmp); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			err = errors.Join(err, rmErr)
		}
	}()
	if objs == nil {
		return nil
	}
	base := filepath.Join(w.dir, "pack-"+sum.String())
	if _, err := os.Stat(base + ".pack"); err == nil {
		return nil // the same pack is there already
	}
	if err := syncFile(w.f); err != nil {
		return err
	}
	if err := objs.writeIndex(base+".idx", sum, w.largeOffsets()); err != nil {
		return err
	}
	if err := os.Rename(tmp, base+".pack"); err != nil {
		return err
	}
	return SyncDir(w.dir)
}

// syncFile makes what was written to f durable; a variable so that tests
// can see the order of syncs and renames.
var syncFile = func(f *os.File) error { return f.Sync() }

// SyncDir makes the names renamed into dir, and removed from it, durable:
// until then a power cut can leave a pack's name with nothing (zeros)
// behind it, and packs merged into it are only removed after this; or
// bring a removed pack back.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(syncFile(d), d.Close())
}

// RemoveLeftovers deletes what Writers in dir left when their process
// died mid-fetch, and half of a pack: an index without its pack (a process
// died between removing the two, packs going first), and a pack without
// its index, which no Writer leaves (the index is in place first) but a
// power cut can, as nothing syncs the directory between the two removals.
// Such a pack is never read, and a fetch that brings it again finds it in
// place and writes no index for it. It must not run beside a Writer of dir.
func RemoveLeftovers(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		orphan := false
		if strings.HasPrefix(name, "pack-") {
			other := ""
			if base, ok := strings.CutSuffix(name, ".idx"); ok {
				other = base + ".pack"
			} else if base, ok := strings.CutSuffix(name, ".pack"); ok {
				other = base + ".idx"
			}
			if other != "" {
				_, err := os.Stat(filepath.Join(dir, other))
				orphan = errors.Is(err, os.ErrNotExist)
			}
		}
		if orphan || strings.HasPrefix(name, tmpPrefix) {
			errs = append(errs, os.Remove(filepath.Join(dir, name)))
		}
	}
	return errors.Join(errs...)
}

// Abort drops what was written: nothing is put in place.
func (w *Writer) Abort() error {
	return errors.Join(w.f.Close(), os.Remove(w.f.Name()))
}
