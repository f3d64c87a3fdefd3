package packindex

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// Kinds of an object, one byte each: its type (for a delta, its base's
// once resolved) and these flags.
const (
	typeMask  = 0x07
	isDelta   = 0x08
	isHashed  = 0x10 // name and type known
	noBase    = -1
	entrySize = 9 // the fewest bytes an entry takes: a header byte and the smallest zlib stream
)

// indexer holds, of each object, what its index needs (Objects, 32 bytes)
// and what resolving deltas needs: its kind (1 byte), and, while the pack
// is read, an OFS_DELTA's base (4 bytes), then the deltas based on each
// object (8 bytes). A record an object, maps of offsets and of deltas
// and go-git's idxfile.Writer came to 320 bytes an object at the peak.
type indexer struct {
	sc     *packfile.Scanner
	tmpDir string
	budget int64 // bytes of content that may still be held in memory

	objs     *Objects
	kinds    []byte
	bases    []int32                   // an OFS_DELTA's base, else noBase; dropped once kids is built
	refs     map[int32]plumbing.Hash   // REF_DELTAs' bases
	kidStart []uint32                  // object i's deltas are kids[kidStart[i]:kidStart[i+1]]
	kids     []int32                   // OFS_DELTAs by base
	refKids  map[int32][]int32         // REF_DELTAs by base, once resolved
	waiting  map[plumbing.Hash][]int32 // REF_DELTAs whose base is not resolved yet
	br       *bufio.Reader             // reads the delta being applied
	buf      []byte                    // copies from a delta's base
}

// Index reads the complete pack in f from its start and returns what its
// index holds and its checksum, verified. Object content held in memory
// at once stays within budget bytes; larger delta bases go to temporary
// files in tmpDir, removed before it returns. A thin pack (a delta whose
// base is not in it) is refused, as go-git's own intake refuses it.
func Index(f *os.File, tmpDir string, budget int64) (*Objects, plumbing.Hash, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, plumbing.ZeroHash, err
	}
	ix := &indexer{sc: packfile.NewScanner(f), tmpDir: tmpDir, budget: budget,
		refs: map[int32]plumbing.Hash{}, refKids: map[int32][]int32{}, waiting: map[plumbing.Hash][]int32{},
		br: bufio.NewReaderSize(nil, 4<<10), buf: make([]byte, 32<<10)}
	sum, err := ix.scan(fi.Size())
	if err == nil {
		err = ix.resolve()
	}
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	return ix.objs, sum, nil
}

// scan reads the pack of size bytes once: whole objects are hashed as
// they inflate; deltas are only measured. It returns the pack's checksum,
// verified.
func (ix *indexer) scan(size int64) (plumbing.Hash, error) {
	_, count, err := ix.sc.Header()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	// What the header says, within what the file can hold.
	n := max(0, min(int64(count), (size-12-20)/entrySize))
	ix.objs = NewObjects(int(n))
	ix.kinds = make([]byte, 0, n)
	ix.bases = make([]int32, 0, n)
	for range count {
		oh, err := ix.sc.NextObjectHeader()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		var (
			name plumbing.Hash
			kind = byte(oh.Type)
			base = int32(noBase)
			crc  uint32
			m    int64
		)
		switch oh.Type {
		case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
			h := plumbing.NewHasher(oh.Type, oh.Length)
			m, crc, err = ix.sc.NextObject(h)
			name, kind = h.Sum(), kind|isHashed
		case plumbing.OFSDeltaObject, plumbing.REFDeltaObject:
			kind |= isDelta
			if oh.Type == plumbing.OFSDeltaObject {
				if base = ix.at(oh.OffsetReference); base < 0 {
					return plumbing.ZeroHash, fmt.Errorf("%w: delta at %d: no object at its base offset %d", packfile.ErrMalformedPackFile, oh.Offset, oh.OffsetReference)
				}
			} else {
				ix.refs[int32(ix.objs.Len())] = oh.Reference
			}
			var hd deltaHeader
			m, crc, err = ix.sc.NextObject(&hd)
			if err == nil {
				_, err = hd.targetSize()
			}
		default:
			err = fmt.Errorf("%w: object of type %d at %d", packfile.ErrMalformedPackFile, oh.Type, oh.Offset)
		}
		if err == nil && m != oh.Length {
			err = fmt.Errorf("%w: object at %d inflates to %d bytes, not %d", packfile.ErrMalformedPackFile, oh.Offset, m, oh.Length)
		}
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if ix.objs.Len() >= 1<<31-1 {
			return plumbing.ZeroHash, fmt.Errorf("%w: too many objects", packfile.ErrMalformedPackFile)
		}
		ix.objs.Add(name, oh.Offset, crc)
		ix.kinds = append(ix.kinds, kind)
		ix.bases = append(ix.bases, base)
	}
	return ix.sc.Checksum()
}

// at is the object at offset, or noBase: objects are read in the order
// of their offsets.
func (ix *indexer) at(offset int64) int32 {
	offs := ix.objs.offsets
	i := sort.Search(len(offs), func(i int) bool { return offs[i] >= offset })
	if i == len(offs) || offs[i] != offset {
		return noBase
	}
	return int32(i)
}

func (ix *indexer) hashed(i int32) bool { return ix.kinds[i]&isHashed != 0 }

func (ix *indexer) typeOf(i int32) plumbing.ObjectType {
	return plumbing.ObjectType(ix.kinds[i] & typeMask)
}

// groupKids lists the OFS_DELTAs by base (kidStart, kids) and drops
// each delta's base.
func (ix *indexer) groupKids() {
	n := len(ix.bases)
	start := make([]uint32, n+1)
	for _, b := range ix.bases {
		if b >= 0 {
			start[b+1]++
		}
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	ix.kids = make([]int32, start[n])
	for i, b := range ix.bases { // start[b] moves to the end of b's deltas
		if b >= 0 {
			ix.kids[start[b]] = int32(i)
			start[b]++
		}
	}
	copy(start[1:], start[:n])
	start[0] = 0
	ix.kidStart, ix.bases = start, nil
}

// hasKids reports whether deltas are based on i.
func (ix *indexer) hasKids(i int32) bool {
	return ix.kidStart[i] < ix.kidStart[i+1] || len(ix.refKids[i]) > 0
}

// resolve hashes every delta, walking down from each whole object through
// the deltas based on it, one chain at a time.
func (ix *indexer) resolve() error {
	ix.groupKids()
	for i, ref := range ix.refs {
		ix.waiting[ref] = append(ix.waiting[ref], i)
	}
	for i := range ix.kinds {
		if ix.hashed(int32(i)) {
			ix.adopt(int32(i))
		}
	}
	for i := range ix.kinds {
		root := int32(i)
		if ix.kinds[root]&isDelta != 0 || !ix.hasKids(root) {
			continue
		}
		c, err := ix.load(root)
		if err != nil {
			return err
		}
		err = ix.resolveKids(root, c)
		c.release()
		if err != nil {
			return err
		}
	}
	for i := range ix.kinds {
		switch ref, isRef := ix.refs[int32(i)]; {
		case ix.hashed(int32(i)):
		case isRef:
			return fmt.Errorf("%w: base %s is not in the pack", packfile.ErrReferenceDeltaNotFound, ref)
		default:
			return fmt.Errorf("%w: delta at %d has no base", packfile.ErrMalformedPackFile, ix.objs.Offset(i))
		}
	}
	return nil
}

// adopt makes the REF_DELTAs waiting for resolved object i its children.
func (ix *indexer) adopt(i int32) {
	if len(ix.waiting) == 0 {
		return
	}
	h := ix.objs.Name(int(i))
	if w, ok := ix.waiting[h]; ok {
		ix.refKids[i] = append(ix.refKids[i], w...)
		delete(ix.waiting, h)
	}
}

// resolveKids resolves the deltas based on p, whose content is base, and
// their own deltas in turn.
func (ix *indexer) resolveKids(p int32, base *content) error {
	refKids := ix.refKids[p]
	delete(ix.refKids, p)
	for _, kids := range [2][]int32{ix.kids[ix.kidStart[p]:ix.kidStart[p+1]], refKids} {
		for _, k := range kids {
			c, err := ix.apply(k, ix.typeOf(p), base)
			if err != nil {
				return err
			}
			if c == nil {
				continue
			}
			err = ix.resolveKids(k, c)
			c.release()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// apply inflates delta k against base and hashes the result. It returns
// the result's content when deltas may be based on it, nil otherwise.
func (ix *indexer) apply(k int32, typ plumbing.ObjectType, base *content) (*content, error) {
	offset := ix.objs.Offset(int(k))
	if _, err := ix.sc.SeekObjectHeader(offset); err != nil {
		return nil, err
	}
	delta, err := ix.sc.ReadObject()
	if err != nil {
		return nil, err
	}
	defer delta.Close()
	ix.br.Reset(delta)
	size, err := sizes(ix.br, base.size)
	if err != nil {
		return nil, fmt.Errorf("delta at %d: %w", offset, err)
	}

	var c *content
	h := plumbing.NewHasher(typ, size)
	w := io.Writer(h)
	if ix.hasKids(k) || len(ix.waiting) > 0 {
		if c, err = ix.hold(size); err != nil {
			return nil, err
		}
		w = io.MultiWriter(h, c)
	}
	if err := patch(w, base, ix.br, size, ix.buf); err != nil {
		c.release()
		return nil, fmt.Errorf("delta at %d: %w", offset, err)
	}
	ix.objs.SetName(int(k), h.Sum())
	ix.kinds[k] = byte(typ) | isDelta | isHashed
	ix.adopt(k)
	if !ix.hasKids(k) {
		c.release()
		return nil, nil
	}
	return c, nil
}

// load inflates whole object i.
func (ix *indexer) load(i int32) (*content, error) {
	offset := ix.objs.Offset(int(i))
	oh, err := ix.sc.SeekObjectHeader(offset)
	if err != nil {
		return nil, err
	}
	c, err := ix.hold(oh.Length)
	if err != nil {
		return nil, err
	}
	n, _, err := ix.sc.NextObject(c)
	if err == nil && n != oh.Length {
		err = fmt.Errorf("%w: object at %d changed size", packfile.ErrMalformedPackFile, offset)
	}
	if err != nil {
		c.release()
		return nil, err
	}
	return c, nil
}

// hold makes room for size bytes of content: in memory while the budget
// allows, else in a temporary file.
func (ix *indexer) hold(size int64) (*content, error) {
	c := &content{ix: ix, size: size}
	if size <= ix.budget {
		ix.budget -= size
		c.mem = make([]byte, 0, size)
		return c, nil
	}
	f, err := os.CreateTemp(ix.tmpDir, tmpPrefix+"obj_")
	if err != nil {
		return nil, err
	}
	c.file = f
	return c, nil
}

// content is an object's inflated bytes, written once, then read as often
// as the deltas based on it need.
type content struct {
	ix   *indexer
	mem  []byte
	file *os.File
	size int64
}

var errOverflow = errors.New("object larger than declared")

func (c *content) Write(p []byte) (int, error) {
	if c.file != nil {
		return c.file.Write(p)
	}
	if int64(len(c.mem)+len(p)) > c.size {
		return 0, errOverflow
	}
	c.mem = append(c.mem, p...)
	return len(p), nil
}

func (c *content) ReadAt(p []byte, off int64) (int, error) {
	if c.file != nil {
		return c.file.ReadAt(p, off)
	}
	return bytes.NewReader(c.mem).ReadAt(p, off)
}

func (c *content) release() {
	switch {
	case c == nil:
	case c.file != nil:
		_ = c.file.Close()
		_ = os.Remove(c.file.Name())
	default:
		c.ix.budget += c.size
		c.mem = nil
	}
}
