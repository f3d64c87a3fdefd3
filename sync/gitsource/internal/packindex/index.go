package packindex

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// object is one entry of the pack.
type object struct {
	offset int64
	size   int64 // inflated; for a delta, the size of its result
	crc    uint32
	typ    plumbing.ObjectType // for a delta, its base's once resolved
	base   int32               // an OFS_DELTA's base, else -1
	ref    plumbing.Hash       // a REF_DELTA's base
	hash   plumbing.Hash
	delta  bool
	done   bool // hash and typ known
}

type indexer struct {
	sc     *packfile.Scanner
	tmpDir string
	budget int64 // bytes of content that may still be held in memory

	objs    []object
	kids    map[int32][]int32         // deltas by base
	waiting map[plumbing.Hash][]int32 // REF_DELTAs whose base is not resolved yet
	br      *bufio.Reader             // reads the delta being applied
	buf     []byte                    // copies from a delta's base
}

// maxPrealloc caps what a pack's declared object count reserves up front.
const maxPrealloc = 1 << 16

// Index reads the complete pack in f from its start and returns its index.
// Object content held in memory at once stays within budget bytes; larger
// delta bases go to temporary files in tmpDir, removed before it returns.
// A thin pack (a delta whose base is not in it) is refused, as go-git's
// own intake refuses it.
func Index(f *os.File, tmpDir string, budget int64) (*idxfile.MemoryIndex, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	ix := &indexer{sc: packfile.NewScanner(f), tmpDir: tmpDir, budget: budget,
		br: bufio.NewReaderSize(nil, 4<<10), buf: make([]byte, 32<<10)}
	sum, err := ix.scan()
	if err != nil {
		return nil, err
	}
	if err := ix.resolve(); err != nil {
		return nil, err
	}
	w := new(idxfile.Writer)
	for _, o := range ix.objs {
		w.Add(o.hash, uint64(o.offset), o.crc)
	}
	if err := w.OnFooter(sum); err != nil {
		return nil, err
	}
	return w.Index()
}

// scan reads the pack once: whole objects are hashed as they inflate;
// deltas are only measured. It returns the pack's checksum, verified.
func (ix *indexer) scan() (plumbing.Hash, error) {
	_, count, err := ix.sc.Header()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	ix.objs = make([]object, 0, min(count, maxPrealloc))
	byOffset := make(map[int64]int32, min(count, maxPrealloc))
	for range count {
		oh, err := ix.sc.NextObjectHeader()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		o := object{offset: oh.Offset, typ: oh.Type, base: -1}
		var n int64
		switch oh.Type {
		case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
			h := plumbing.NewHasher(oh.Type, oh.Length)
			n, o.crc, err = ix.sc.NextObject(h)
			o.size, o.hash, o.done = oh.Length, h.Sum(), true
		case plumbing.OFSDeltaObject, plumbing.REFDeltaObject:
			o.delta = true
			if oh.Type == plumbing.OFSDeltaObject {
				b, ok := byOffset[oh.OffsetReference]
				if !ok {
					return plumbing.ZeroHash, fmt.Errorf("%w: delta at %d: no object at its base offset %d", packfile.ErrMalformedPackFile, oh.Offset, oh.OffsetReference)
				}
				o.base = b
			} else {
				o.ref = oh.Reference
			}
			var hd deltaHeader
			n, o.crc, err = ix.sc.NextObject(&hd)
			if err == nil {
				o.size, err = hd.targetSize()
			}
		default:
			err = fmt.Errorf("%w: object of type %d at %d", packfile.ErrMalformedPackFile, oh.Type, oh.Offset)
		}
		if err == nil && n != oh.Length {
			err = fmt.Errorf("%w: object at %d inflates to %d bytes, not %d", packfile.ErrMalformedPackFile, oh.Offset, n, oh.Length)
		}
		if err != nil {
			return plumbing.ZeroHash, err
		}
		byOffset[oh.Offset] = int32(len(ix.objs))
		ix.objs = append(ix.objs, o)
	}
	return ix.sc.Checksum()
}

// resolve hashes every delta, walking down from each whole object through
// the deltas based on it, one chain at a time.
func (ix *indexer) resolve() error {
	ix.kids = map[int32][]int32{}
	ix.waiting = map[plumbing.Hash][]int32{}
	for i, o := range ix.objs {
		switch {
		case o.base >= 0:
			ix.kids[o.base] = append(ix.kids[o.base], int32(i))
		case !o.done:
			ix.waiting[o.ref] = append(ix.waiting[o.ref], int32(i))
		}
	}
	for i := range ix.objs {
		if ix.objs[i].done {
			ix.adopt(int32(i))
		}
	}
	for i := range ix.objs {
		root := int32(i)
		if ix.objs[root].delta || len(ix.kids[root]) == 0 {
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
	for _, o := range ix.objs {
		switch {
		case o.done:
		case o.base < 0:
			return fmt.Errorf("%w: base %s is not in the pack", packfile.ErrReferenceDeltaNotFound, o.ref)
		default:
			return fmt.Errorf("%w: delta at %d has no base", packfile.ErrMalformedPackFile, o.offset)
		}
	}
	return nil
}

// adopt makes the REF_DELTAs waiting for resolved object i its children.
func (ix *indexer) adopt(i int32) {
	h := ix.objs[i].hash
	if w, ok := ix.waiting[h]; ok {
		ix.kids[i] = append(ix.kids[i], w...)
		delete(ix.waiting, h)
	}
}

// resolveKids resolves the deltas based on p, whose content is base, and
// their own deltas in turn.
func (ix *indexer) resolveKids(p int32, base *content) error {
	kids := ix.kids[p]
	delete(ix.kids, p)
	for _, k := range kids {
		c, err := ix.apply(k, ix.objs[p].typ, base)
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
	return nil
}

// apply inflates delta k against base and hashes the result. It returns
// the result's content when deltas may be based on it, nil otherwise.
func (ix *indexer) apply(k int32, typ plumbing.ObjectType, base *content) (*content, error) {
	o := &ix.objs[k]
	if _, err := ix.sc.SeekObjectHeader(o.offset); err != nil {
		return nil, err
	}
	delta, err := ix.sc.ReadObject()
	if err != nil {
		return nil, err
	}
	defer delta.Close()
	ix.br.Reset(delta)

	var c *content
	h := plumbing.NewHasher(typ, o.size)
	w := io.Writer(h)
	if len(ix.kids[k]) > 0 || len(ix.waiting) > 0 {
		if c, err = ix.hold(o.size); err != nil {
			return nil, err
		}
		w = io.MultiWriter(h, c)
	}
	if err := patch(w, base, ix.br, o.size, ix.buf); err != nil {
		c.release()
		return nil, fmt.Errorf("delta at %d: %w", o.offset, err)
	}
	o.typ, o.hash, o.done = typ, h.Sum(), true
	ix.adopt(k)
	if len(ix.kids[k]) == 0 {
		c.release()
		return nil, nil
	}
	return c, nil
}

// load inflates whole object i.
func (ix *indexer) load(i int32) (*content, error) {
	o := ix.objs[i]
	c, err := ix.hold(o.size)
	if err != nil {
		return nil, err
	}
	if _, err := ix.sc.SeekObjectHeader(o.offset); err != nil {
		c.release()
		return nil, err
	}
	n, _, err := ix.sc.NextObject(c)
	if err == nil && n != o.size {
		err = fmt.Errorf("%w: object at %d changed size", packfile.ErrMalformedPackFile, o.offset)
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
