package packs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// Set is the packs of one objects/pack directory, each open once for
// reading with its index (index). It is not safe for concurrent use: its
// user serializes every call (sync/gitsource holds its store lock), which
// is also what lets Remove delete a pack no reader is reading.
type Set struct {
	dir   string
	fs    billy.Filesystem
	cache cache.Object
	packs []*pack // most objects first: the clone's pack is asked first

	in, out *bufio.Reader // Cost's, around zr
	zr      io.ReadCloser
}

type pack struct {
	id    plumbing.Hash
	size  int64
	idx   *index
	file  billy.File
	pf    *packfile.Packfile
	reads int // through pf
}

// readsPerReader is how many reads a go-git reader of a pack serves
// before it is replaced: each keeps the type of every entry it reads
// (deltas' bases included) in a map nothing empties, about 1 MB once the
// 50,000 commits of a big repository were walked.
const readsPerReader = 1024

// reader is p's go-git reader, a new one every readsPerReader reads.
func (s *Set) reader(p *pack) *packfile.Packfile {
	if p.reads++; p.reads > readsPerReader {
		p.pf, p.reads = s.newReader(p), 1
	}
	return p.pf
}

func (s *Set) newReader(p *pack) *packfile.Packfile {
	return packfile.NewPackfileWithCache(p.idx, s.fs, p.file, s.cache, 0)
}

// Open reads the indexes of the packs in dir (which need not exist yet);
// objects read are cached in c, shared by all packs.
func Open(dir string, c cache.Object) (*Set, error) {
	s := &Set{dir: dir, fs: osfs.New(dir), cache: c}
	if err := s.Load(); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// Load reads the pack directory again: packs added since are opened,
// packs gone are closed.
func (s *Set) Load() error {
	ids, err := list(s.dir)
	if err != nil {
		return err
	}
	present := make(map[plumbing.Hash]bool, len(ids))
	var errs []error
	for _, id := range ids {
		present[id] = true
		if s.find(id) != nil {
			continue
		}
		p, err := s.open(id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.packs = append(s.packs, p)
	}
	kept := s.packs[:0]
	for _, p := range s.packs {
		if present[p.id] {
			kept = append(kept, p)
		} else {
			errs = append(errs, p.file.Close())
		}
	}
	s.packs = kept
	sort.SliceStable(s.packs, func(i, j int) bool { return s.packs[i].idx.count() > s.packs[j].idx.count() })
	return errors.Join(errs...)
}

// list names the packs of dir that have their index: a pack whose index
// is not written yet (or no longer) is not one.
func list(dir string) ([]plumbing.Hash, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []plumbing.Hash
	for _, e := range entries {
		hex, _ := strings.CutPrefix(e.Name(), "pack-")
		hex, ok := strings.CutSuffix(hex, ".pack")
		if !ok || len(hex) != 40 || !strings.HasPrefix(e.Name(), "pack-") {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "pack-"+hex+".idx")); err == nil {
			ids = append(ids, plumbing.NewHash(hex))
		}
	}
	return ids, nil
}

func (s *Set) open(id plumbing.Hash) (*pack, error) {
	name := "pack-" + id.String()
	idx, err := readIndex(filepath.Join(s.dir, name+".idx"))
	if err != nil {
		return nil, err
	}
	if idx.checksum != id {
		return nil, fmt.Errorf("%s.idx: indexes pack %s", name, idx.checksum)
	}
	f, err := s.fs.Open(name + ".pack")
	if err != nil {
		return nil, err
	}
	fi, err := s.fs.Stat(name + ".pack")
	if err == nil {
		err = trailerIs(f, fi.Size(), id)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s.pack: %w", name, err)
	}
	p := &pack{id: id, size: fi.Size(), idx: idx, file: f}
	p.pf = s.newReader(p)
	return p, nil
}

var errPackDamaged = errors.New("pack does not match its index (truncated or damaged)")

// trailerIs checks that the pack f, of size bytes, ends with the checksum
// its index names, as git does when it opens a pack: an object past where
// a truncated pack ends would otherwise read as not found.
func trailerIs(f billy.File, size int64, id plumbing.Hash) error {
	var sum plumbing.Hash
	if size < 12+20 {
		return errPackDamaged
	}
	if _, err := f.ReadAt(sum[:], size-20); err != nil {
		return err
	}
	if sum != id {
		return errPackDamaged
	}
	return nil
}

func (s *Set) find(id plumbing.Hash) *pack {
	for _, p := range s.packs {
		if p.id == id {
			return p
		}
	}
	return nil
}

// locate is the pack holding h and its offset there.
func (s *Set) locate(h plumbing.Hash) (*pack, int64) {
	for _, p := range s.packs {
		if i := p.idx.find(h); i >= 0 {
			return p, p.idx.offset(i)
		}
	}
	return nil, -1
}

// Has reports whether a pack holds h.
func (s *Set) Has(h plumbing.Hash) bool {
	p, _ := s.locate(h)
	return p != nil
}

// Get reads h (plumbing.ErrObjectNotFound when no pack holds it). Objects
// larger than go-git's small-object threshold are read from the pack when
// their Reader is called, which must be before the pack is Removed.
func (s *Set) Get(h plumbing.Hash) (plumbing.EncodedObject, error) {
	if o, ok := s.cache.Get(h); ok {
		return o, nil
	}
	p, _ := s.locate(h)
	if p == nil {
		return nil, plumbing.ErrObjectNotFound
	}
	return s.reader(p).Get(h)
}

// Size is the inflated size of h, read from its header, or for a delta
// from the first bytes of the delta: go-git's GetSizeByOffset inflates
// the delta whole, which may be as long as what it makes.
func (s *Set) Size(h plumbing.Hash) (int64, error) {
	p, off := s.locate(h)
	if p == nil {
		return 0, plumbing.ErrObjectNotFound
	}
	_, size, _, err := s.sizeAt(p, off)
	return size, err
}

// Count is the number of packs.
func (s *Set) Count() int { return len(s.packs) }

// Close closes the packs.
func (s *Set) Close() error {
	var errs []error
	for _, p := range s.packs {
		errs = append(errs, p.file.Close())
	}
	s.packs = nil
	return errors.Join(errs...)
}
