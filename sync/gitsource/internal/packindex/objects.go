package packindex

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
)

// Objects is what a pack's index says of each object, in the order they
// were added, held in compact arrays: 20 bytes of name, 8 of offset and 4
// of CRC-32 an object (go-git's idxfile.Writer holds an Entry, a pointer
// to it and a map entry for each, then a MemoryIndex besides).
type Objects struct {
	names   []byte // 20 each
	offsets []int64
	crcs    []uint32
}

// NewObjects reserves room for n objects.
func NewObjects(n int) *Objects {
	return &Objects{names: make([]byte, 0, n*20), offsets: make([]int64, 0, n), crcs: make([]uint32, 0, n)}
}

// Add appends an object; its name may be set later (SetName).
func (o *Objects) Add(name plumbing.Hash, offset int64, crc uint32) {
	o.names = append(o.names, name[:]...)
	o.offsets = append(o.offsets, offset)
	o.crcs = append(o.crcs, crc)
}

// Len is the number of objects.
func (o *Objects) Len() int { return len(o.offsets) }

// Offset is the i-th object's offset in the pack.
func (o *Objects) Offset(i int) int64 { return o.offsets[i] }

// Name is the i-th object's name.
func (o *Objects) Name(i int) (h plumbing.Hash) {
	copy(h[:], o.names[i*20:])
	return h
}

// SetName names the i-th object.
func (o *Objects) SetName(i int, h plumbing.Hash) { copy(o.names[i*20:], h[:]) }

// maxOffset32 is the largest offset git index-pack writes in the table of
// 32-bit offsets; those past it go to the table of 64-bit ones.
const maxOffset32 = 0x7fffffff

// WriteIndex writes the version 2 index of pack, whose objects o lists,
// to path (through a temporary file in its directory, synced, then
// renamed; the caller syncs the directory): byte for byte what git
// index-pack writes for the same pack.
func (o *Objects) WriteIndex(path string, pack plumbing.Hash) error {
	return o.writeIndex(path, pack, maxOffset32)
}

// writeIndex puts offsets past limit in the table of 64-bit offsets, as
// git index-pack --index-version=2,<limit> does.
func (o *Objects) writeIndex(path string, pack plumbing.Hash, limit int64) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), tmpPrefix+"idx_")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	sum := sha1.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, sum), 64<<10)
	o.encode(w, pack, limit)
	if err := w.Flush(); err != nil {
		return err
	}
	if _, err := f.Write(sum.Sum(nil)); err != nil {
		return err
	}
	if err := syncFile(f); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// encode writes all of the index but its own checksum; errors are w's.
func (o *Objects) encode(w *bufio.Writer, pack plumbing.Hash, limit int64) {
	n := o.Len()
	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	name := func(i uint32) []byte { return o.names[i*20 : i*20+20] }
	slices.SortStableFunc(order, func(a, b uint32) int { return bytes.Compare(name(a), name(b)) })

	var b [8]byte
	u32 := func(v uint32) {
		binary.BigEndian.PutUint32(b[:], v)
		_, _ = w.Write(b[:4])
	}
	_, _ = w.Write([]byte{0xff, 't', 'O', 'c', 0, 0, 0, 2})
	k := 0
	for first := range 256 {
		for k < n && int(name(order[k])[0]) <= first {
			k++
		}
		u32(uint32(k))
	}
	for _, i := range order {
		_, _ = w.Write(name(i))
	}
	for _, i := range order {
		u32(o.crcs[i])
	}
	large := uint32(0)
	for _, i := range order {
		if off := o.offsets[i]; off > limit {
			u32(1<<31 | large)
			large++
		} else {
			u32(uint32(off))
		}
	}
	for _, i := range order {
		if off := o.offsets[i]; off > limit {
			binary.BigEndian.PutUint64(b[:], uint64(off))
			_, _ = w.Write(b[:])
		}
	}
	_, _ = w.Write(pack[:])
}
