package gitsource

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unsafe"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/syncgate/syncgate/sync/gitsource/internal/packs"
)

// MaxDirEntries bounds the entries of a directory a Tree reads: one with
// more is refused (ErrDirTooLarge) before any of them is built, so that
// a commit with a directory of millions of files costs the agent a scan
// of its tree object, not millions of entries held. It is render's
// DefaultLimits.Entries, which bounds what a render lists: a directory
// the render may list is never refused here.
const MaxDirEntries = 100_000

// ErrDirTooLarge refuses a directory whose git tree is larger than
// MaxInMemory bytes, or is a delta rebuilt from an object larger (told
// from the headers of its delta chain, before any of it is read), or holds
// more than MaxDirEntries entries. It matches fs.ErrInvalid: the commit's
// fault.
var ErrDirTooLarge error = treeError("directory too large")

// MaxNameBytes bounds the name of an entry of a directory, so that a
// tree's bytes are its entries' and a tree of one entry is small: git
// stores any length, but no file system a repository is checked out on
// holds a name of more than 255 characters (1,020 bytes of UTF-8 on APFS,
// 765 on NTFS, 255 bytes on Linux's).
const MaxNameBytes = 1024

// ErrNameTooLong refuses a directory that holds an entry named with more
// than MaxNameBytes. It matches fs.ErrInvalid: the commit's fault.
var ErrNameTooLong error = treeError("name too long")

// entryBytes is what an entry costs decoded, beside its name.
const entryBytes = int(unsafe.Sizeof(entry{}))

// readTree reads tree h: its chain's headers under the store lock, its
// content inflated under it too (go-git reads packs through shared
// handles), and decoded after the lock is released, so that a big
// directory holds up no other reader of the store while its entries are
// built.
func (s *Source) readTree(h plumbing.Hash, charge func(size int64) error) (*dir, error) {
	s.store.Lock()
	cost, r, err := s.openTree(h, charge)
	s.store.Unlock()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var raw strings.Builder
	raw.Grow(int(cost.Size))
	if _, err := io.Copy(&raw, io.LimitReader(r, cost.Size+1)); err != nil {
		return nil, err
	}
	if int64(raw.Len()) != cost.Size {
		return nil, fmt.Errorf("tree %s: %d bytes read, its header says %d", h, raw.Len(), cost.Size)
	}
	d, err := decodeDir(raw.String())
	if err != nil {
		return nil, err
	}
	d.read = readCost(cost)
	return d, nil
}

// openTree needs s.store held. The tree is charged what reading it
// inflates (readCost), told from the headers of its delta chain, before
// any of it is inflated: a tree, or an object its chain rebuilds it from,
// larger than MaxInMemory is refused.
func (s *Source) openTree(h plumbing.Hash, charge func(size int64) error) (packs.Cost, io.ReadCloser, error) {
	cost, err := s.costOf(h)
	switch {
	case err != nil:
		return cost, nil, err
	case cost.Type != plumbing.TreeObject && cost.Type != plumbing.AnyObject:
		return cost, nil, plumbing.ErrObjectNotFound // as go-git answers for a tree not there
	case cost.Size > MaxInMemory:
		return cost, nil, fmt.Errorf("%w: its git tree is %d bytes, more than the %d syncgate reads", ErrDirTooLarge, cost.Size, MaxInMemory)
	case cost.Largest > MaxInMemory:
		return cost, nil, fmt.Errorf("%w: its git tree is a delta rebuilt from an object of %d bytes, more than the %d syncgate reads", ErrDirTooLarge, cost.Largest, MaxInMemory)
	}
	if err := charge(readCost(cost)); err != nil {
		return cost, nil, err
	}
	obj, err := s.repo.Storer.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		return cost, nil, err
	}
	r, err := obj.Reader()
	if err != nil {
		return cost, nil, err
	}
	return cost, r, nil
}

// readCost is what reading an object costs a Tree: the bytes inflated
// to rebuild it, and treeOverhead for each delta of its chain (each read
// on its own).
func readCost(c packs.Cost) int64 {
	return c.Inflated + int64(c.Depth)*treeOverhead
}

// decodeDir decodes a tree object's content as go-git's object.Tree does,
// after counting its entries: more than MaxDirEntries are refused before
// any is built. Names are parts of raw, which the dir keeps whole.
func decodeDir(raw string) (*dir, error) {
	n := 0
	for i := 0; i < len(raw); n++ {
		if n == MaxDirEntries {
			return nil, fmt.Errorf("%w: more than %d entries", ErrDirTooLarge, MaxDirEntries)
		}
		nul := strings.IndexByte(raw[i:], 0)
		if nul < 0 {
			break // decoded below as malformed
		}
		i += nul + 1 + len(plumbing.ZeroHash)
	}
	d := &dir{entries: make([]entry, 0, n), cost: len(raw) + n*entryBytes}
	for rest := raw; rest != ""; {
		sp := strings.IndexByte(rest, ' ')
		if sp < 0 {
			return nil, treeError("malformed git tree: missing mode terminator")
		}
		mode, err := filemode.New(rest[:sp])
		if err != nil {
			return nil, treeError("malformed git tree: malformed mode")
		}
		rest = rest[sp+1:]
		nul := strings.IndexByte(rest, 0)
		switch {
		case nul < 0:
			return nil, treeError("malformed git tree: missing filename terminator")
		case nul == 0:
			return nil, treeError("malformed git tree: empty filename")
		case nul > MaxNameBytes:
			return nil, fmt.Errorf("%w: an entry's name is %d bytes, more than %d", ErrNameTooLong, nul, MaxNameBytes)
		case len(rest) < nul+1+len(plumbing.ZeroHash):
			return nil, treeError("malformed git tree: truncated object id")
		}
		e := entry{name: rest[:nul], mode: canonicalMode(mode)}
		copy(e.hash[:], rest[nul+1:])
		d.entries = append(d.entries, e)
		rest = rest[nul+1+len(plumbing.ZeroHash):]
	}
	// git orders a directory as if its name ended in "/"; fs wants names.
	byName := func(a, b entry) int { return strings.Compare(a.name, b.name) }
	if !slices.IsSortedFunc(d.entries, byName) {
		slices.SortFunc(d.entries, byName)
	}
	return d, nil
}

// canonicalMode is go-git's canonicalTreeMode: the mode an entry's octal
// digits stand for, as git reads them.
func canonicalMode(m filemode.FileMode) filemode.FileMode {
	switch m & 0o170000 {
	case 0o040000:
		return filemode.Dir
	case 0o100000:
		if m&0o111 != 0 {
			return filemode.Executable
		}
		return filemode.Regular
	case 0o120000:
		return filemode.Symlink
	default:
		return filemode.Submodule
	}
}
