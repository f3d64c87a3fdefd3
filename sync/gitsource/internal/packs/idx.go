package packs

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
)

// index is a pack's .idx (version 2) held in 28 bytes an object: the
// sorted names and their 32-bit offsets as the file has them, and, built
// at the first FindHash, the objects in offset order. The CRCs are read
// from the file when asked. go-git's MemoryIndex holds 34 bytes an
// object and builds a map of every offset to its hash (about 100 bytes an
// object) at the first object it reads from the pack, deltas or not.
type index struct {
	path     string
	fanout   [256]uint32
	names    []byte // count × 20, sorted
	off32    []byte // count × 4, big-endian; high bit: index into off64
	off64    []byte // 8 each
	checksum plumbing.Hash
	byOffset []uint32 // positions sorted by offset; built by FindHash
}

var _ idxfile.Index = (*index)(nil)

var idxMagic = []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}

// readIndex reads the .idx at path, checked as go-git checks it: its
// fanout table in order (else a lookup would slice past the names) and its
// checksum (else a damaged name or offset would have another object read
// in place of the one asked).
func readIndex(path string) (*index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	sum := sha1.New()
	// The names and offsets are read past the buffer, into their slices.
	br := bufio.NewReaderSize(f, 8<<10)
	r := io.TeeReader(br, sum) // all but the index's own checksum
	head := make([]byte, 8+256*4)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !bytes.Equal(head[:8], idxMagic) {
		return nil, fmt.Errorf("%s: %w: not a version 2 index", path, idxfile.ErrMalformedIdxFile)
	}
	ix := &index{path: path}
	for i := range ix.fanout {
		ix.fanout[i] = binary.BigEndian.Uint32(head[8+4*i:])
		if i > 0 && ix.fanout[i] < ix.fanout[i-1] {
			return nil, fmt.Errorf("%s: %w: fanout table decreases at %d", path, idxfile.ErrMalformedIdxFile, i)
		}
	}
	n := int64(ix.fanout[255])
	rest := fi.Size() - int64(len(head)) - n*28 - 40
	if rest < 0 || rest%8 != 0 {
		return nil, fmt.Errorf("%s: %w: size does not match %d objects", path, idxfile.ErrMalformedIdxFile, n)
	}
	ix.names = make([]byte, n*20)
	ix.off32 = make([]byte, n*4)
	ix.off64 = make([]byte, rest)
	_, err = io.ReadFull(r, ix.names)
	if err == nil {
		_, err = io.CopyN(io.Discard, r, n*4) // the CRCs, hashed
	}
	if err == nil {
		_, err = io.ReadFull(r, ix.off32)
	}
	if err == nil {
		_, err = io.ReadFull(r, ix.off64)
	}
	if err == nil {
		_, err = io.ReadFull(r, ix.checksum[:])
	}
	var own plumbing.Hash
	if err == nil {
		_, err = io.ReadFull(br, own[:])
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !bytes.Equal(sum.Sum(nil), own[:]) {
		return nil, fmt.Errorf("%s: %w: checksum mismatch", path, idxfile.ErrMalformedIdxFile)
	}
	return ix, nil
}

func (ix *index) count() int { return len(ix.names) / 20 }

func (ix *index) name(i int) []byte { return ix.names[i*20 : i*20+20] }

// find is the position of h, or -1.
func (ix *index) find(h plumbing.Hash) int {
	lo := 0
	if h[0] > 0 {
		lo = int(ix.fanout[h[0]-1])
	}
	hi := int(ix.fanout[h[0]])
	i := lo + sort.Search(hi-lo, func(i int) bool { return bytes.Compare(ix.name(lo+i), h[:]) >= 0 })
	if i < hi && bytes.Equal(ix.name(i), h[:]) {
		return i
	}
	return -1
}

func (ix *index) offset(i int) int64 {
	o := binary.BigEndian.Uint32(ix.off32[i*4:])
	if o&(1<<31) == 0 {
		return int64(o)
	}
	at := int(o&^(1<<31)) * 8
	if at+8 > len(ix.off64) {
		return -1
	}
	return int64(binary.BigEndian.Uint64(ix.off64[at:]))
}

func (ix *index) hash(i int) (h plumbing.Hash) {
	copy(h[:], ix.name(i))
	return h
}

// Contains implements idxfile.Index.
func (ix *index) Contains(h plumbing.Hash) (bool, error) { return ix.find(h) >= 0, nil }

// FindOffset implements idxfile.Index.
func (ix *index) FindOffset(h plumbing.Hash) (int64, error) {
	i := ix.find(h)
	if i < 0 {
		return 0, plumbing.ErrObjectNotFound
	}
	return ix.offset(i), nil
}

// FindCRC32 implements idxfile.Index, reading the CRC from the file.
func (ix *index) FindCRC32(h plumbing.Hash) (uint32, error) {
	i := ix.find(h)
	if i < 0 {
		return 0, plumbing.ErrObjectNotFound
	}
	crcs, err := ix.crcs(i, 1)
	if err != nil {
		return 0, err
	}
	return crcs[0], nil
}

// crcs reads n CRCs from position i.
func (ix *index) crcs(i, n int) ([]uint32, error) {
	f, err := os.Open(ix.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 4*n)
	at := int64(8+256*4) + int64(ix.count())*20 + int64(i)*4
	if _, err := f.ReadAt(buf, at); err != nil {
		return nil, fmt.Errorf("%s: crc: %w", ix.path, err)
	}
	out := make([]uint32, n)
	for k := range out {
		out[k] = binary.BigEndian.Uint32(buf[4*k:])
	}
	return out, nil
}

// FindHash implements idxfile.Index.
func (ix *index) FindHash(o int64) (plumbing.Hash, error) {
	order := ix.offsetOrder()
	k := sort.Search(len(order), func(k int) bool { return ix.offset(int(order[k])) >= o })
	if k == len(order) || ix.offset(int(order[k])) != o {
		return plumbing.ZeroHash, plumbing.ErrObjectNotFound
	}
	return ix.hash(int(order[k])), nil
}

// offsetOrder is the positions sorted by offset.
func (ix *index) offsetOrder() []uint32 {
	if ix.byOffset == nil {
		order := make([]uint32, ix.count())
		for i := range order {
			order[i] = uint32(i)
		}
		sort.Slice(order, func(a, b int) bool { return ix.offset(int(order[a])) < ix.offset(int(order[b])) })
		ix.byOffset = order
	}
	return ix.byOffset
}

// Count implements idxfile.Index.
func (ix *index) Count() (int64, error) { return int64(ix.count()), nil }

// Entries implements idxfile.Index: in hash order.
func (ix *index) Entries() (idxfile.EntryIter, error) { return ix.entries(nil) }

// EntriesByOffset implements idxfile.Index.
func (ix *index) EntriesByOffset() (idxfile.EntryIter, error) { return ix.entries(ix.offsetOrder()) }

func (ix *index) entries(order []uint32) (idxfile.EntryIter, error) {
	crcs, err := ix.crcs(0, ix.count())
	if err != nil {
		return nil, err
	}
	return &entryIter{ix: ix, order: order, crcs: crcs}, nil
}

type entryIter struct {
	ix    *index
	order []uint32 // nil: hash order
	crcs  []uint32
	next  int
}

func (it *entryIter) Next() (*idxfile.Entry, error) {
	if it.next >= len(it.crcs) {
		return nil, io.EOF
	}
	i := it.next
	if it.order != nil {
		i = int(it.order[it.next])
	}
	it.next++
	return &idxfile.Entry{Hash: it.ix.hash(i), CRC32: it.crcs[i], Offset: uint64(it.ix.offset(i))}, nil
}

func (it *entryIter) Close() error { it.next = len(it.crcs); return nil }
