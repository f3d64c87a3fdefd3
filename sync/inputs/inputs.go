// Package inputs records what a render read from a commit, so that a later
// commit can be told to hold the same inputs without being rendered: every
// file read and every path looked at has the same git object id there, and
// every directory listed has the same entries. A render is a function of
// what it reads, so the same inputs render the same objects.
package inputs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"sort"
	"sync"
)

// Hasher is a commit's tree that names the git object a path leads to,
// symlinks followed (gitsource's trees are).
type Hasher interface {
	fs.FS
	Hash(name string) (string, error)
}

// ErrNotComparable is returned for a tree that cannot name its objects.
var ErrNotComparable = errors.New("inputs: the tree cannot name its objects")

type kind uint8

const (
	read kind = iota + 1 // content or kind of a path: its object id
	list                 // a directory's entries: their names and kinds
)

type access struct {
	name string
	kind kind
}

// Recorder is a tree that notes each path read through it. It implements
// fs.StatFS, fs.ReadFileFS, fs.ReadDirFS, Hasher, CountEntries and
// LimitTreeBytes over the tree it wraps. Safe
// for concurrent use.
type Recorder struct {
	tree Hasher

	mu   sync.Mutex
	seen map[access]struct{}
}

// Record wraps tree; it fails with ErrNotComparable when tree cannot name
// its objects.
func Record(tree fs.FS) (*Recorder, error) {
	h, ok := tree.(Hasher)
	if !ok {
		return nil, ErrNotComparable
	}
	return &Recorder{tree: h, seen: map[access]struct{}{}}, nil
}

func (r *Recorder) note(name string, k kind) {
	r.mu.Lock()
	r.seen[access{name, k}] = struct{}{}
	r.mu.Unlock()
}

// Open opens name; reading a directory opened so is noted as a read of the
// whole directory.
func (r *Recorder) Open(name string) (fs.File, error) {
	r.note(name, read)
	return r.tree.Open(name)
}

func (r *Recorder) Stat(name string) (fs.FileInfo, error) {
	r.note(name, read)
	return fs.Stat(r.tree, name)
}

func (r *Recorder) ReadFile(name string) ([]byte, error) {
	r.note(name, read)
	return fs.ReadFile(r.tree, name)
}

func (r *Recorder) ReadDir(name string) ([]fs.DirEntry, error) {
	r.note(name, list)
	return fs.ReadDir(r.tree, name)
}

// CountEntries is how many entries directory name holds, noted as a
// listing of it: from the tree without listing it when the tree can count
// (gitsource's trees can), else by listing it.
func (r *Recorder) CountEntries(name string) (int, error) {
	r.note(name, list)
	if c, ok := r.tree.(interface{ CountEntries(string) (int, error) }); ok {
		return c.CountEntries(name)
	}
	entries, err := fs.ReadDir(r.tree, name)
	return len(entries), err
}

// LimitTreeBytes passes the bound on to the tree when it takes one
// (gitsource's trees do).
func (r *Recorder) LimitTreeBytes(n int64) {
	if l, ok := r.tree.(interface{ LimitTreeBytes(int64) }); ok {
		l.LimitTreeBytes(n)
	}
}

// Hash names the git object name leads to: noted as a read of name, since
// the id tells its content (a render may keep what it made of a file by
// its id instead of reading it again).
func (r *Recorder) Hash(name string) (string, error) {
	r.note(name, read)
	return r.tree.Hash(name)
}

// Set is what one render read, with what it found: compare it with another
// commit's tree through Same. Immutable.
type Set struct {
	names []string
	kinds []kind
	sums  []string
}

// Inputs is what was read through r so far.
func (r *Recorder) Inputs() (*Set, error) {
	r.mu.Lock()
	all := make([]access, 0, len(r.seen))
	for a := range r.seen {
		all = append(all, a)
	}
	r.mu.Unlock()
	sort.Slice(all, func(i, j int) bool {
		if all[i].name != all[j].name {
			return all[i].name < all[j].name
		}
		return all[i].kind < all[j].kind
	})
	s := &Set{names: make([]string, len(all)), kinds: make([]kind, len(all)), sums: make([]string, len(all))}
	for i, a := range all {
		sum, err := fingerprint(r.tree, a)
		if err != nil {
			return nil, err
		}
		s.names[i], s.kinds[i], s.sums[i] = a.name, a.kind, sum
	}
	return s, nil
}

// Len is how many paths the render read.
func (s *Set) Len() int { return len(s.names) }

// Same reports whether tree holds what the render read, as it read it. A
// tree that cannot name its objects is never the same.
func (s *Set) Same(tree fs.FS) (bool, error) {
	h, ok := tree.(Hasher)
	if !ok {
		return false, ErrNotComparable
	}
	for i, name := range s.names {
		sum, err := fingerprint(h, access{name, s.kinds[i]})
		if err != nil {
			return false, err
		}
		if sum != s.sums[i] {
			return false, nil
		}
	}
	return true, nil
}

// fingerprint is what a render could learn from one access: a path's
// object id, or a directory's entries. A path that is not there, or that
// the tree refuses (a symlink leaving the repository, a loop), is
// fingerprinted by its error's kind, which a render reports as it is.
func fingerprint(t Hasher, a access) (string, error) {
	switch a.kind {
	case list:
		entries, err := fs.ReadDir(t, a.name)
		if err != nil {
			return failure(err)
		}
		h := sha256.New()
		for _, e := range entries {
			h.Write([]byte(e.Name()))
			h.Write([]byte{0, byte(e.Type() >> 24), 0})
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	default:
		id, err := t.Hash(a.name)
		if err != nil {
			return failure(err)
		}
		return id, nil
	}
}

// failure fingerprints an access that failed for a reason of the commit's;
// any other error (the object store could not be read) is returned.
func failure(err error) (string, error) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "!absent", nil
	case errors.Is(err, fs.ErrInvalid):
		return "!invalid: " + err.Error(), nil
	}
	return "", err
}
