package packs

import (
	"bufio"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/syncgate/syncgate/sync/gitsource/internal/packindex"
)

// Fault, when set (by tests), is called at each step of a merge and ends
// it where it returns an error, leaving the files as a process killed
// there would: "copying" after the first pack is half copied, "placed"
// once the merged pack and its index are in place and before the packs
// merged are removed.
var Fault func(step string) error

// largeOffsets, when set (by tests), is the offset past which the merged
// pack's index puts offsets in its table of 64-bit ones (packindex.Writer).
var largeOffsets int64

func fault(step string) error {
	if Fault == nil {
		return nil
	}
	return Fault(step)
}

// ToMerge names the packs to merge once there are more than max: go-git
// writes one pack per fetch and reads an object by asking each pack's
// index in turn. All but the largest pack, or all of them when the others
// together are larger than it, so that what a merge copies stays in
// proportion to what fetches brought since.
func (s *Set) ToMerge(max int) []plumbing.Hash {
	if len(s.packs) <= max {
		return nil
	}
	bySize := make([]*pack, len(s.packs))
	copy(bySize, s.packs)
	sort.Slice(bySize, func(i, j int) bool { return bySize[i].size > bySize[j].size })
	var rest int64
	for _, p := range bySize[1:] {
		rest += p.size
	}
	if rest <= bySize[0].size {
		bySize = bySize[1:]
	}
	if len(bySize) < 2 {
		return nil
	}
	ids := make([]plumbing.Hash, len(bySize))
	for i, p := range bySize {
		ids[i] = p.id
	}
	return ids
}

// Merge writes the packs ids of dir into one new pack and returns its id;
// the packs merged are left in place (Remove them once the Set has loaded
// the new one). Entries are copied as they are, compressed, with the base
// offsets of deltas renumbered, and the new pack's index is written from
// what the copy knows of each entry (name, offset, CRC-32 of what was
// written): no object is inflated, whatever the packs hold. What is read
// of each entry is checked against the CRC-32 its pack's index holds, as
// git checks the pack data it reuses: a damaged entry fails the merge,
// and the packs stay as they were. The merged pack and its index are
// synced, and the directory after their renames, before Merge returns:
// the packs merged may be removed then, not before (a power cut could
// bring back the merged pack zero-filled). It reads only files that are
// never changed, so it needs no lock, only that nothing else removes
// those packs.
func Merge(dir string, ids []plumbing.Hash) (plumbing.Hash, error) {
	out := &packOut{sum: sha1.New(), idxs: make([]*index, len(ids)), moved: make([][]int64, len(ids)),
		dups: make([]map[uint32]position, len(ids)), buf: make([]byte, 32<<10)}
	var count int64
	for i, id := range ids {
		ix, err := readIndex(filepath.Join(dir, "pack-"+id.String()+".idx"))
		if err != nil {
			return plumbing.ZeroHash, err
		}
		out.idxs[i] = ix
		count += int64(ix.count() - out.findDups(i))
	}
	if count >= 1<<32 {
		return plumbing.ZeroHash, fmt.Errorf("merge packs: %d objects is too many for one pack", count)
	}
	out.objs = packindex.NewObjects(int(count))
	w, err := packindex.NewWriter(dir, 0)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	w.LargeOffsets = largeOffsets
	out.w = bufio.NewWriterSize(io.MultiWriter(w, out.sum), 64<<10)
	head := append([]byte("PACK\x00\x00\x00\x02"), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(head[8:], uint32(count))
	_, err = out.Write(head)
	for i := 0; err == nil && i < len(ids); i++ {
		err = out.copyPack(filepath.Join(dir, "pack-"+ids[i].String()+".pack"), i)
		if err == nil && i == 0 {
			err = fault("copying")
		}
	}
	if err == nil {
		err = out.w.Flush()
	}
	var id plumbing.Hash
	copy(id[:], out.sum.Sum(nil))
	if err == nil {
		_, err = w.Write(id[:])
	}
	if err != nil {
		if Fault != nil {
			return plumbing.ZeroHash, err // as if killed: the temporary file stays
		}
		return plumbing.ZeroHash, errors.Join(err, w.Abort())
	}
	if err := w.CloseIndexed(out.objs, id); err != nil {
		return plumbing.ZeroHash, err
	}
	return id, fault("placed")
}

// packOut is the merged pack being written, its checksum and what its
// index will hold.
type packOut struct {
	w     *bufio.Writer
	sum   hash.Hash
	n     int64     // bytes written
	crc   uint32    // of the entry being written
	src   crcReader // the entry being read, and the CRC of its bytes
	buf   []byte
	objs  *packindex.Objects
	idxs  []*index
	moved [][]int64             // of each pack copied, the new offset of each entry by position
	dups  []map[uint32]position // of each pack, its objects an earlier pack holds
}

// position is an object's place in the packs merged.
type position struct{ pack, pos int }

// Write writes p to the pack, counted and added to the entry's CRC.
func (o *packOut) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	o.n += int64(n)
	o.crc = crc32.Update(o.crc, crc32.IEEETable, p[:n])
	return n, err
}

// findDups notes the objects of the i-th pack that packs before it hold
// (a fetch after a force-push, a merge killed before it removed the packs
// merged), so that each is copied once, and returns how many there are.
func (o *packOut) findDups(i int) int {
	ix := o.idxs[i]
	var h plumbing.Hash
	for pos := range ix.count() {
		copy(h[:], ix.name(pos))
		for j := range i {
			if at := o.idxs[j].find(h); at >= 0 {
				if o.dups[i] == nil {
					o.dups[i] = map[uint32]position{}
				}
				o.dups[i][uint32(pos)] = position{j, at}
				break
			}
		}
	}
	return len(o.dups[i])
}

// copyPack appends the entries of the i-th pack, in offset order, so that
// the base of an offset delta is always copied before the delta.
func (o *packOut) copyPack(path string, i int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	ix := o.idxs[i]
	crcs, err := ix.crcs(0, ix.count())
	if err != nil {
		return err
	}
	order := ix.offsetOrder()
	moved := make([]int64, len(order))
	o.moved[i] = moved
	var hdr [32]byte
	for k, pos := range order {
		if d, ok := o.dups[i][pos]; ok {
			moved[pos] = o.moved[d.pack][d.pos]
			continue
		}
		start := ix.offset(int(pos))
		end := fi.Size() - 20
		if k+1 < len(order) {
			end = ix.offset(int(order[k+1]))
		}
		n, err := f.ReadAt(hdr[:min(int64(len(hdr)), end-start)], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		e, err := parseEntry(hdr[:n])
		if err != nil {
			return fmt.Errorf("%s at %d: %w", filepath.Base(path), start, err)
		}
		moved[pos] = o.n
		if e.typ == plumbing.OFSDeltaObject {
			b := sort.Search(k, func(b int) bool { return ix.offset(int(order[b])) >= start-e.distance })
			if b == k || ix.offset(int(order[b])) != start-e.distance {
				return fmt.Errorf("%s at %d: no entry at the delta's base", filepath.Base(path), start)
			}
			e.distance = moved[pos] - moved[order[b]]
		}
		o.crc = 0
		if _, err := o.Write(e.header()); err != nil {
			return err
		}
		o.src = crcReader{r: io.NewSectionReader(f, start+int64(e.length), end-start-int64(e.length)),
			crc: crc32.Update(0, crc32.IEEETable, hdr[:e.length])}
		if _, err := io.CopyBuffer(o, &o.src, o.buf); err != nil {
			return err
		}
		if o.src.crc != crcs[pos] {
			return fmt.Errorf("%s at %d: %w: object %s does not match the CRC-32 of its index",
				filepath.Base(path), start, errDamaged, ix.hash(int(pos)))
		}
		o.objs.Add(ix.hash(int(pos)), moved[pos], o.crc)
	}
	return nil
}

// errDamaged is a pack entry whose bytes are not those its index's CRC-32
// was computed over.
var errDamaged = errors.New("pack entry damaged")

// crcReader reads r, adding what it reads to crc: an entry's original
// bytes are checked as they are copied, as git checks the pack data it
// reuses, without inflating them.
type crcReader struct {
	r   io.Reader
	crc uint32
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc = crc32.Update(c.crc, crc32.IEEETable, p[:n])
	return n, err
}

// ErrMergedNotRead is Replace's when the Set could not read the merged
// pack: it still reads the packs merged, all kept. Any other error of
// Replace comes once the Set reads the merged pack instead.
var ErrMergedNotRead = errors.New("merged pack not read")

// syncDir makes the directory's removals durable; a variable so that
// tests can see when it is synced.
var syncDir = packindex.SyncDir

// Replace makes the Set read from the pack merged and deletes the packs
// ids it was merged from (Merge returned once the merged pack was on
// disk): each pack before its index, so that a kill between the two
// leaves no pack without an index (a power cut may: the directory is not
// synced between them, and packindex.RemoveLeftovers removes either half
// when the clone is opened), then syncs the directory, so that a power cut after Replace returns cannot bring a
// removed pack back for the next merge to copy again. Its user must hold off
// readers, as for any call. A pack of the directory that does not open
// (damaged) is reported, but does not keep the packs merged in place: the
// merged one, opened, holds their objects. The directory is read once.
func (s *Set) Replace(merged plumbing.Hash, ids []plumbing.Hash) error {
	loadErr := s.Load()
	if s.find(merged) == nil {
		return errors.Join(fmt.Errorf("%w: %s not found", ErrMergedNotRead, merged), loadErr)
	}
	gone := make(map[plumbing.Hash]bool, len(ids))
	for _, id := range ids {
		gone[id] = id != merged
	}
	errs := []error{loadErr}
	kept := s.packs[:0]
	for _, p := range s.packs {
		if gone[p.id] {
			errs = append(errs, p.file.Close())
		} else {
			kept = append(kept, p)
		}
	}
	clear(s.packs[len(kept):])
	s.packs = kept
	removed := false
	for _, id := range ids {
		if gone[id] {
			base := filepath.Join(s.dir, "pack-"+id.String())
			errs = append(errs, os.Remove(base+".pack"), os.Remove(base+".idx"))
			removed = true
		}
	}
	if removed {
		if err := syncDir(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("sync the pack directory after removing the packs merged: %w", err))
		}
	}
	return errors.Join(errs...)
}
