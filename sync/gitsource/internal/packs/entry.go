package packs

import (
	"errors"

	"github.com/go-git/go-git/v5/plumbing"
)

// entry is the header of one pack entry: its type, inflated size (of the
// delta, for a delta), and the base a delta names. What follows the header
// is zlib data, copied as it is.
type entry struct {
	typ      plumbing.ObjectType
	size     uint64
	distance int64         // an offset delta's: how far back its base starts
	ref      plumbing.Hash // a ref delta's base
	length   int           // of the header in the pack
}

var errHeader = errors.New("malformed pack entry header")

// parseEntry reads the header at the start of b.
func parseEntry(b []byte) (entry, error) {
	if len(b) == 0 {
		return entry{}, errHeader
	}
	c := b[0]
	e := entry{typ: plumbing.ObjectType((c >> 4) & 7), size: uint64(c & 15)}
	i, shift := 1, 4
	for c&0x80 != 0 {
		if i == len(b) || shift > 57 {
			return entry{}, errHeader
		}
		c = b[i]
		e.size |= uint64(c&0x7f) << shift
		i, shift = i+1, shift+7
	}
	switch e.typ {
	case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
	case plumbing.OFSDeltaObject:
		if i == len(b) {
			return entry{}, errHeader
		}
		c = b[i]
		i++
		d := int64(c & 0x7f)
		for c&0x80 != 0 {
			if i == len(b) || d >= 1<<55 {
				return entry{}, errHeader
			}
			c = b[i]
			i++
			d = (d+1)<<7 | int64(c&0x7f)
		}
		e.distance = d
	case plumbing.REFDeltaObject:
		if len(b) < i+20 {
			return entry{}, errHeader
		}
		copy(e.ref[:], b[i:i+20])
		i += 20
	default:
		return entry{}, errHeader
	}
	e.length = i
	return e, nil
}

// header encodes e as a pack has it.
func (e entry) header() []byte {
	out := make([]byte, 0, 40)
	c := byte(e.typ)<<4 | byte(e.size&15)
	size := e.size >> 4
	for size != 0 {
		out = append(out, c|0x80)
		c, size = byte(size&0x7f), size>>7
	}
	out = append(out, c)
	switch e.typ {
	case plumbing.OFSDeltaObject:
		var rev [10]byte
		d := e.distance
		n := 0
		rev[n] = byte(d & 0x7f)
		for d >>= 7; d != 0; d >>= 7 {
			d--
			n++
			rev[n] = 0x80 | byte(d&0x7f)
		}
		for ; n >= 0; n-- {
			out = append(out, rev[n])
		}
	case plumbing.REFDeltaObject:
		out = append(out, e.ref[:]...)
	}
	return out
}
