package gitsource_test

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/stretchr/testify/require"
)

// packWriter writes a pack of version 2, its object count patched in at
// finish.
type packWriter struct {
	buf   bytes.Buffer
	count uint32
	last  int // offset of the last entry written
}

func (p *packWriter) header(typ plumbing.ObjectType, size int) {
	if p.buf.Len() == 0 {
		p.buf.Write([]byte{'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 0})
	}
	p.count++
	p.last = p.buf.Len()
	c := byte(typ)<<4 | byte(size&15)
	for size >>= 4; size != 0; size >>= 7 {
		p.buf.WriteByte(c | 0x80)
		c = byte(size & 0x7f)
	}
	p.buf.WriteByte(c)
}

func (p *packWriter) deflate(b []byte) {
	zw := zlib.NewWriter(&p.buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
}

// whole writes an object as it is and returns its id.
func (p *packWriter) whole(typ plumbing.ObjectType, content []byte) plumbing.Hash {
	p.header(typ, len(content))
	p.deflate(content)
	return plumbing.ComputeHash(typ, content)
}

// delta writes result, of type typ, as an offset delta off the object at
// baseAt (of baseSize bytes) made of ops, and returns its id.
func (p *packWriter) delta(typ plumbing.ObjectType, baseAt, baseSize int, result, ops []byte) plumbing.Hash {
	d := binary.AppendUvarint(binary.AppendUvarint(nil, uint64(baseSize)), uint64(len(result)))
	d = append(d, ops...)
	p.header(plumbing.OFSDeltaObject, len(d))
	dist := p.last - baseAt
	rev := []byte{byte(dist & 0x7f)}
	for dist >>= 7; dist != 0; dist >>= 7 {
		dist--
		rev = append([]byte{0x80 | byte(dist&0x7f)}, rev...)
	}
	p.buf.Write(rev)
	p.deflate(d)
	return plumbing.ComputeHash(typ, result)
}

// copyOp is a delta's instruction copying size bytes of the base at off.
func copyOp(off, size int) []byte {
	op := []byte{0x80}
	for i := range 4 {
		if b := byte(off >> (8 * i)); b != 0 {
			op[0] |= 1 << i
			op = append(op, b)
		}
	}
	for i := range 3 {
		if b := byte(size >> (8 * i)); b != 0 {
			op[0] |= 1 << (4 + i)
			op = append(op, b)
		}
	}
	return op
}

// push puts the pack in u's bare repository, indexed by git, and points
// the branch at commit.
func (p *packWriter) push(u *upstream, commit plumbing.Hash) {
	u.t.Helper()
	b := p.buf.Bytes()
	binary.BigEndian.PutUint32(b[8:12], p.count)
	sum := sha1.Sum(b)
	p.buf.Write(sum[:])
	pack := filepath.Join(u.bare, "objects", "pack", "pack-"+plumbing.Hash(sum).String()+".pack")
	require.NoError(u.t, os.WriteFile(pack, p.buf.Bytes(), 0o644))
	u.git(u.bare, "index-pack", pack)
	u.git(u.bare, "update-ref", "refs/heads/"+u.branch, commit.String())
}

// commit writes a commit of tree, without parents.
func (p *packWriter) commit(tree plumbing.Hash) plumbing.Hash {
	return p.whole(plumbing.CommitObject, fmt.Appendf(nil,
		"tree %s\nauthor t <t@example.com> 1700000000 +0000\ncommitter t <t@example.com> 1700000000 +0000\n\ndeltas\n", tree))
}
