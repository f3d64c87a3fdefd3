package packs

import (
	"bufio"
	"compress/zlib"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"

	"github.com/syncgate/syncgate/sync/gitsource/internal/packindex"
)

// MaxDepth bounds the delta chains Cost follows: git writes none deeper
// (pack.depth is at most 4095), and go-git resolves a chain by recursion,
// each delta inflated whole.
const MaxDepth = 4095

// Cost is what reading an object inflates, told from the headers of the
// entries of its delta chain: go-git rebuilds a delta by inflating its
// base whole (a delta's base again from its own base, and so on down the
// chain), then the delta, then applies it, every time the object is read
// unless its cache holds the base. A small object may so be a delta off a
// base of any size, which its own header does not tell.
type Cost struct {
	Type     plumbing.ObjectType // the object's: its chain's base's
	Size     int64               // of the object's content
	Inflated int64               // every entry of the chain: the base, each delta and what it makes
	Largest  int64               // of the entries, the largest inflated or made
	Depth    int                 // deltas in the chain
}

// maxCounted keeps the sums of Cost within int64 whatever the headers say.
const maxCounted = 1 << 48

func (c *Cost) count(n int64) {
	n = min(n, maxCounted)
	c.Inflated = min(c.Inflated+n, maxCounted)
	c.Largest = max(c.Largest, n)
}

var errChain = errors.New("delta chain")

// Cost reads the headers of h's delta chain, inflating only the first
// bytes of each delta (its sizes), so that a reader can refuse an object
// before go-git inflates its bases (plumbing.ErrObjectNotFound when no
// pack holds h). A chain deeper than MaxDepth, or whose sizes do not
// match, is refused.
func (s *Set) Cost(h plumbing.Hash) (Cost, error) {
	p, off := s.locate(h)
	if p == nil {
		return Cost{}, plumbing.ErrObjectNotFound
	}
	var c Cost
	want := int64(-1) // what the delta before says of its base's size
	for {
		e, size, base, err := s.sizeAt(p, off)
		if err != nil {
			return c, fmt.Errorf("%s: %w", h, err)
		}
		if want >= 0 && size != want {
			return c, fmt.Errorf("%w of %s: a base of %d bytes, its delta says %d: %w", errChain, h, size, want, packfile.ErrInvalidDelta)
		}
		if c.Depth == 0 {
			c.Size = size
		}
		c.count(size)
		if base < 0 {
			c.Type = e.typ
			return c, nil
		}
		if c.Depth++; c.Depth > MaxDepth {
			return c, fmt.Errorf("%w of %s: deeper than %d deltas", errChain, h, MaxDepth)
		}
		c.count(int64(min(e.size, maxCounted))) // the delta itself
		want = base
		if off, err = p.baseOf(e, off); err != nil {
			return c, fmt.Errorf("%w of %s: %w", errChain, h, err)
		}
	}
}

// sizeAt reads the entry at off in p: its size (a delta's result's, read
// from the delta's first bytes) and, for a delta, its base's; else -1.
func (s *Set) sizeAt(p *pack, off int64) (e entry, size, base int64, err error) {
	if e, err = p.entryAt(off); err != nil {
		return e, 0, 0, fmt.Errorf("pack-%s.pack at %d: %w", p.id, off, err)
	}
	if e.typ != plumbing.OFSDeltaObject && e.typ != plumbing.REFDeltaObject {
		return e, int64(min(e.size, maxCounted)), -1, nil
	}
	if base, size, err = s.deltaSizes(p, off+int64(e.length)); err != nil {
		return e, 0, 0, fmt.Errorf("pack-%s.pack at %d: %w", p.id, off, err)
	}
	return e, size, base, nil
}

// entryAt parses the header of the entry at off.
func (p *pack) entryAt(off int64) (entry, error) {
	var b [32]byte // the longest header: 10 bytes of size, 20 of a base's name
	if off < 12 || off >= p.size-20 {
		return entry{}, errHeader
	}
	n, err := p.file.ReadAt(b[:min(int64(len(b)), p.size-20-off)], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return entry{}, err
	}
	return parseEntry(b[:n])
}

// baseOf is the offset of the base of delta e at off: go-git looks a
// reference delta's base up in the delta's own pack only.
func (p *pack) baseOf(e entry, off int64) (int64, error) {
	if e.typ == plumbing.OFSDeltaObject {
		if e.distance <= 0 || e.distance > off-12 {
			return 0, fmt.Errorf("%w: base offset out of the pack", packfile.ErrInvalidDelta)
		}
		return off - e.distance, nil
	}
	i := p.idx.find(e.ref)
	if i < 0 {
		return 0, plumbing.ErrObjectNotFound
	}
	return p.idx.offset(i), nil
}

// deltaSizes inflates the start of the delta whose zlib data is at off in
// p: the sizes of its base and of its result.
func (s *Set) deltaSizes(p *pack, off int64) (base, result int64, err error) {
	if s.in == nil {
		s.in, s.out = bufio.NewReaderSize(nil, 512), bufio.NewReaderSize(nil, 32)
	}
	s.in.Reset(io.NewSectionReader(p.file, off, p.size-20-off))
	if s.zr == nil {
		s.zr, err = zlib.NewReader(s.in)
	} else {
		err = s.zr.(zlib.Resetter).Reset(s.in, nil)
	}
	if err != nil {
		return 0, 0, err
	}
	s.out.Reset(s.zr)
	return packindex.DeltaSizes(s.out)
}
