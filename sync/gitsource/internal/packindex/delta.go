package packindex

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// sizes reads the two sizes a delta opens with and returns the second,
// the size of its result, once the first is checked against its base's.
func sizes(delta io.ByteReader, base int64) (int64, error) {
	src, err := readSize(delta)
	if err != nil {
		return 0, err
	}
	size, err := readSize(delta)
	if err != nil || src != uint64(base) || size > 1<<62 {
		return 0, fmt.Errorf("%w: sizes do not match the objects", packfile.ErrInvalidDelta)
	}
	return int64(size), nil
}

// patch writes what delta makes of base: size bytes, copied from base or
// from the delta itself, the delta's sizes read already (sizes). Copies read base at their offsets (io.ReaderAt),
// so nothing is held but buf. go-git's streaming ReaderFromDelta reads its
// base in sequence and, in v5.19.3, returns wrong bytes after a copy that
// goes back (go-git/go-git#2378); its in-memory PatchDelta needs both whole.
func patch(dst io.Writer, base *content, delta *bufio.Reader, size int64, buf []byte) error {
	for n := int64(0); n < size; {
		cmd, err := delta.ReadByte()
		if err != nil {
			return truncated(err)
		}
		var m int64
		switch {
		case cmd&0x80 != 0: // copy from the base
			var off, sz uint64
			for i := range 7 { // 4 bytes of offset, then 3 of size
				if cmd&(1<<i) == 0 {
					continue
				}
				b, err := delta.ReadByte()
				if err != nil {
					return truncated(err)
				}
				if i < 4 {
					off |= uint64(b) << (8 * i)
				} else {
					sz |= uint64(b) << (8 * (i - 4))
				}
			}
			if sz == 0 {
				sz = 0x10000
			}
			if off+sz > uint64(base.size) || int64(sz) > size-n {
				return fmt.Errorf("%w: copy out of bounds", packfile.ErrInvalidDelta)
			}
			m, err = io.CopyBuffer(dst, io.NewSectionReader(base, int64(off), int64(sz)), buf)
		case cmd != 0: // insert the next cmd bytes of the delta
			if int64(cmd) > size-n {
				return fmt.Errorf("%w: insert out of bounds", packfile.ErrInvalidDelta)
			}
			var k int
			k, err = io.ReadFull(delta, buf[:cmd])
			if err == nil {
				k, err = dst.Write(buf[:k])
			}
			m = int64(k)
		default:
			return fmt.Errorf("%w: reserved instruction 0", packfile.ErrInvalidDelta)
		}
		if err != nil {
			return truncated(err)
		}
		n += m
	}
	if _, err := delta.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: bytes after the last instruction", packfile.ErrInvalidDelta)
	}
	return nil
}

func truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: truncated", packfile.ErrInvalidDelta)
	}
	return err
}

// DeltaSizes reads the two sizes a delta opens with: its base's and its
// result's.
func DeltaSizes(delta io.ByteReader) (base, result int64, err error) {
	src, err := readSize(delta)
	if err != nil {
		return 0, 0, err
	}
	size, err := readSize(delta)
	if err != nil {
		return 0, 0, err
	}
	if src > 1<<62 || size > 1<<62 {
		return 0, 0, fmt.Errorf("%w: size overflows", packfile.ErrInvalidDelta)
	}
	return int64(src), int64(size), nil
}

// readSize reads one of the two sizes opening a delta (7 bits a byte,
// least significant first).
func readSize(r io.ByteReader) (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		b, err := r.ReadByte()
		if err != nil {
			return 0, truncated(err)
		}
		v |= uint64(b&0x7f) << shift
		if b&0x80 == 0 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: size overflows", packfile.ErrInvalidDelta)
}

// deltaHeader keeps the start of a delta, where the sizes of its base and
// result are, and discards the rest.
type deltaHeader struct {
	b [20]byte
	n int
}

func (d *deltaHeader) Write(p []byte) (int, error) {
	d.n += copy(d.b[d.n:], p)
	return len(p), nil
}

// targetSize is the size of the delta's result.
func (d *deltaHeader) targetSize() (int64, error) {
	_, size, err := DeltaSizes(bytes.NewReader(d.b[:d.n]))
	return size, err
}
