package gitsource

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/syncgate/syncgate/sync/gitsource/internal/packindex"
	"github.com/syncgate/syncgate/sync/gitsource/internal/packs"
)

// MaxInMemory bounds the object content the Source holds in memory,
// whatever the repository holds: a fetch indexes what it receives within
// it (packindex), and a tree refuses to read a file larger (ErrTooLarge).
const MaxInMemory = 16 << 20

// The caches of objects read from the clone, bounded by size so that they
// do not grow with the commits followed: each commit of a directory of a
// thousand files brings a new tree of it (about 45 kB raw, 70 kB decoded).
const (
	// treeCacheBytes bounds the decoded trees kept, in bytes, per
	// generation of the two (treeCache): 100,000 entries of short names
	// fit in one.
	treeCacheBytes = 8 << 20
	// objectCacheSize bounds go-git's cache of the raw objects it read
	// (its default is 96 MiB): trees are kept decoded in treeCache, not
	// there (rawTreesApart), so what it saves is inflating files, commits
	// and delta bases again.
	objectCacheSize = 8 * cache.MiByte
)

// store is go-git's filesystem storage with a pack intake that keeps
// within MaxInMemory: go-git's own inflates every fetched object whole.
//
// go-git's LargeObjectThreshold (objects read through streams) is left
// off: trees and commits are decoded whole anyway, files larger than
// MaxInMemory are not read at all, and its streaming reader of deltas
// returns wrong bytes in v5.19.3 (go-git/go-git#2378).
//
// Objects are read through packs.Set rather than go-git's own reader of
// packs, which keeps an index of about 135 bytes an object for each pack
// (34 of them go-git's MemoryIndex, the rest a map of offsets to hashes it
// builds at the first object read), asks the packs in no fixed order, and
// opens the pack again for every object read. Loose objects (none, unless
// something other than a fetch wrote the clone) are go-git's to read.
type store struct {
	*filesystem.Storage
	dir      string
	packDir  string
	packs    *packs.Set
	received *intake      // counts the bytes of the packs fetched
	objects  cache.Object // go-git's cache of the objects it read
}

func newStore(dir string, received *intake) (*store, error) {
	objects := rawTreesApart{cache.NewObjectLRU(objectCacheSize)}
	packDir := filepath.Join(dir, "objects", "pack")
	set, err := packs.Open(packDir, objects)
	if err != nil {
		return nil, err
	}
	return &store{
		Storage:  filesystem.NewStorage(osfs.New(dir), objects),
		dir:      dir,
		packDir:  packDir,
		packs:    set,
		received: received,
		objects:  objects,
	}, nil
}

// EncodedObject reads h from the packs, or else from a loose object.
func (s *store) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	obj, err := s.packs.Get(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) && s.loose(h) {
		return s.Storage.EncodedObject(t, h)
	}
	if err != nil {
		return nil, err
	}
	if t != plumbing.AnyObject && obj.Type() != t {
		return nil, plumbing.ErrObjectNotFound
	}
	return obj, nil
}

// HasEncodedObject is nil when the clone has h.
func (s *store) HasEncodedObject(h plumbing.Hash) error {
	if s.packs.Has(h) || s.loose(h) {
		return nil
	}
	return plumbing.ErrObjectNotFound
}

// EncodedObjectSize reads h's size from its header.
func (s *store) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	size, err := s.packs.Size(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) && s.loose(h) {
		return s.Storage.EncodedObjectSize(h)
	}
	return size, err
}

// Cost is what reading h inflates, its delta bases included, read from
// the headers of its chain. A loose object is no delta; its type is not
// told (plumbing.AnyObject).
func (s *store) Cost(h plumbing.Hash) (packs.Cost, error) {
	c, err := s.packs.Cost(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) && s.loose(h) {
		size, err := s.Storage.EncodedObjectSize(h)
		return packs.Cost{Type: plumbing.AnyObject, Size: size, Inflated: size, Largest: size}, err
	}
	return c, err
}

// costOf is what reading h inflates (store.Cost); it needs s.store held.
func (s *Source) costOf(h plumbing.Hash) (packs.Cost, error) {
	return s.repo.Storer.(interface {
		Cost(plumbing.Hash) (packs.Cost, error)
	}).Cost(h)
}

func (s *store) loose(h plumbing.Hash) bool {
	name := h.String()
	_, err := os.Stat(filepath.Join(s.dir, "objects", name[:2], name[2:]))
	return err == nil
}

// Reindex reads the pack directory again.
func (s *store) Reindex() {
	_ = s.reload()
}

func (s *store) reload() error {
	s.Storage.Reindex()
	return s.packs.Load()
}

// PackfileWriter is what a fetch writes the pack it receives to.
func (s *store) PackfileWriter() (io.WriteCloser, error) {
	w, err := packindex.NewWriter(s.packDir, MaxInMemory)
	if err != nil {
		return nil, err
	}
	return &reindexing{Writer: w, store: s}, nil
}

// reindexing makes the object store see the new pack once it is in place,
// and counts what it receives. A pack whose writing failed (the fetch
// received more than it may) is dropped, not indexed.
type reindexing struct {
	*packindex.Writer
	store  *store
	failed error
}

func (w *reindexing) Write(p []byte) (int, error) {
	if w.failed != nil {
		return 0, w.failed
	}
	n, err := w.Writer.Write(p)
	if _, over := w.store.received.Write(p[:n]); err == nil {
		err = over
	}
	w.failed = err
	return n, err
}

func (w *reindexing) Close() error {
	if w.failed != nil {
		return errors.Join(w.failed, w.Writer.Abort())
	}
	return errors.Join(w.Writer.Close(), w.store.reload())
}

// openClone opens the bare clone in dir, creating it when absent. A clone
// that cannot be opened is only a cache: it is started afresh, unless
// what failed was the system, not the clone (too many open files, an
// interrupted call: transient), which fails here and keeps the clone for
// the next try.
func openClone(dir string, received *intake, log *slog.Logger) (*git.Repository, error) {
	st, err := newStore(dir, received)
	if err == nil {
		var repo *git.Repository
		if repo, err = git.Open(st, nil); err == nil {
			if err := packindex.RemoveLeftovers(st.packDir); err != nil {
				log.Warn("leftovers of an interrupted fetch not removed", "dir", dir, "err", err)
			}
			return repo, nil
		}
		_ = st.packs.Close()
	}
	if transient(err) {
		return nil, fmt.Errorf("gitsource: open clone in %s (kept): %w", dir, err)
	}
	if !errors.Is(err, git.ErrRepositoryNotExists) {
		log.Warn("cached clone unreadable; starting afresh", "dir", dir, "err", err)
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("gitsource: remove broken clone %s: %w", dir, err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("gitsource: cache dir: %w", err)
	}
	if st, err = newStore(dir, received); err != nil {
		return nil, fmt.Errorf("gitsource: init clone in %s: %w", dir, err)
	}
	repo, err := git.Init(st, nil)
	if err != nil {
		return nil, fmt.Errorf("gitsource: init clone in %s: %w", dir, err)
	}
	return repo, nil
}

// transientErrnos are the system's trouble that a later try may not
// meet. EIO and ETIMEDOUT are not among them: a clone on a bad block of
// disk would be kept, and fail, at every start (the cache directory
// outlives the process).
var transientErrnos = []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.EINTR,
	syscall.EAGAIN, syscall.ENOMEM, syscall.ENOBUFS}

// transient reports whether err is the system's trouble that a later try
// may not meet, rather than a clone that is not as git writes it. Of
// errors joined (one a pack), each must be: a damaged pack among packs
// that failed for want of file descriptors is still damaged.
func transient(err error) bool {
	switch e := err.(type) {
	case nil:
		return false
	case syscall.Errno:
		return slices.Contains(transientErrnos, e)
	case interface{ Unwrap() []error }:
		errs := e.Unwrap()
		for _, err := range errs {
			if !transient(err) {
				return false
			}
		}
		return len(errs) > 0
	}
	return transient(errors.Unwrap(err))
}
