package gitsource

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/syncgate/syncgate/sync/gitsource/internal/packs"
)

// ErrSymlinkEscape refuses a symlink that points outside the repository.
var ErrSymlinkEscape error = treeError("symlink leaves the repository")

// ErrTooLarge refuses to read a file larger than MaxInMemory, whole or
// in parts, or stored as a delta rebuilt from an object larger (a small
// file deltified off a huge one); Open and Stat still tell its size.
var ErrTooLarge error = treeError("file too large")

// treeError is something wrong with the commit's tree itself, such as a
// symlink that loops or a file read as a directory. It matches
// fs.ErrInvalid, so a reader can tell the commit's fault from a failure to
// read the object store, which may pass on a retry.
type treeError string

func (e treeError) Error() string      { return string(e) }
func (treeError) Is(target error) bool { return target == fs.ErrInvalid }

// treeFS serves a commit's tree as an io/fs.FS straight from the object
// store. Symlinks are followed by looking their targets up in the same
// tree, so nothing outside the repository can ever be read; a link that
// would leave it is an error naming the link.
type treeFS struct {
	src  *Source
	root plumbing.Hash

	linkSteps atomic.Int64 // spent of MaxLinkSteps
	trees     treeBudget   // of MaxTreeBytes
}

var (
	_ fs.ReadFileFS = (*treeFS)(nil)
	_ fs.ReadDirFS  = (*treeFS)(nil)
	_ fs.StatFS     = (*treeFS)(nil)
)

// blobSize reads the size from the object's header, without inflating it:
// Open and Stat cost no decoding, and the first Read decodes the blob once.
func (t *treeFS) blobSize(h plumbing.Hash) (int64, error) {
	t.src.store.Lock()
	defer t.src.store.Unlock()
	return t.src.repo.Storer.EncodedObjectSize(h)
}

// readableBlob is blob h's size, told from the headers of its delta
// chain; it refuses a file too large to hold, or rebuilt from an object
// too large: go-git inflates a blob whole before the first byte can be
// read, and a delta's base whole before that, whatever the delta makes.
// It needs s.store held.
func (s *Source) readableBlob(h plumbing.Hash) (int64, error) {
	c, err := s.costOf(h)
	switch {
	case err != nil:
		return 0, err
	case c.Size > MaxInMemory:
		return 0, fmt.Errorf("%w: %d bytes, more than the %d syncgate reads", ErrTooLarge, c.Size, MaxInMemory)
	case c.Largest > MaxInMemory:
		return 0, rebuiltFromTooLarge(c)
	}
	return c.Size, nil
}

func rebuiltFromTooLarge(c packs.Cost) error {
	return fmt.Errorf("%w: a delta rebuilt from an object of %d bytes, more than the %d syncgate reads", ErrTooLarge, c.Largest, MaxInMemory)
}

// Open opens a file or directory.
func (t *treeFS) Open(name string) (fs.File, error) {
	tg, err := t.resolve(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if tg.isDir() {
		entries, err := t.entries(tg)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dirFile{info: fileInfo{name: path.Base(name), mode: dirMode}, entries: entries}, nil
	}
	size, err := t.blobSize(tg.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &blobFile{fs: t, hash: tg.hash, info: fileInfo{name: path.Base(name), size: size, mode: fileMode(tg.mode)}}, nil
}

// Hash is the git object id of what name leads to once every symlink is
// followed: a blob's for a file, a tree's for a directory. Two commits
// whose paths have the same id hold the same content there, so a reader
// can tell a path unchanged without reading it.
func (t *treeFS) Hash(name string) (string, error) {
	tg, err := t.resolve(name)
	if err != nil {
		return "", &fs.PathError{Op: "hash", Path: name, Err: err}
	}
	return tg.hash.String(), nil
}

// Stat describes a file or directory without reading it.
func (t *treeFS) Stat(name string) (fs.FileInfo, error) {
	tg, err := t.resolve(name)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if tg.isDir() {
		return fileInfo{name: path.Base(name), mode: dirMode}, nil
	}
	size, err := t.blobSize(tg.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return fileInfo{name: path.Base(name), size: size, mode: fileMode(tg.mode)}, nil
}

// ReadFile reads a whole file of at most MaxInMemory bytes.
func (t *treeFS) ReadFile(name string) ([]byte, error) {
	tg, err := t.resolve(name)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if tg.isDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: treeError("is a directory")}
	}
	t.src.store.Lock()
	defer t.src.store.Unlock()
	if _, err := t.src.readableBlob(tg.hash); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	obj, err := t.src.repo.Storer.EncodedObject(plumbing.BlobObject, tg.hash)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	defer r.Close()
	buf := bytes.NewBuffer(make([]byte, 0, obj.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return buf.Bytes(), nil
}

// ReadDir lists a directory in name order.
func (t *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	tg, err := t.resolve(name)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	if !tg.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: treeError("not a directory")}
	}
	entries, err := t.entries(tg)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return entries, nil
}

// entries lists directory tg. A symlink is listed as what it points at; one
// that cannot be followed (dangling, or leaving the repository) is listed
// as a symlink, and opening it reports why. Past MaxLinkSteps the listing
// fails: every link after would too.
func (t *treeFS) entries(tg target) ([]fs.DirEntry, error) {
	d, err := t.dirOf(tg.hash)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, 0, len(d.entries))
	for _, e := range d.entries {
		de := &dirEntry{fs: t, name: e.name, hash: e.hash}
		switch {
		case e.mode == filemode.Symlink:
			dest, err := t.resolve(path.Join(tg.path, e.name))
			switch {
			case errors.Is(err, errLinkBudget):
				return nil, err
			case err != nil:
				de.mode = fs.ModeSymlink | 0o777
			case dest.isDir():
				de.mode = dirMode
			default:
				de.mode, de.hash = fileMode(dest.mode), dest.hash
			}
		case e.mode == filemode.Dir:
			de.mode = dirMode
		case e.mode.IsFile():
			de.mode = fileMode(e.mode)
		default:
			continue // submodule
		}
		out = append(out, de)
	}
	return out, nil
}

const dirMode = fs.ModeDir | 0o555

func fileMode(m filemode.FileMode) fs.FileMode {
	if m == filemode.Executable {
		return 0o555
	}
	return 0o444
}

// fileInfo describes a file or directory; the times are zero, since a tree
// has none.
type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }

// dirEntry reads a file's size only when Info is asked for.
type dirEntry struct {
	fs   *treeFS
	name string
	mode fs.FileMode
	hash plumbing.Hash
}

func (e *dirEntry) Name() string      { return e.name }
func (e *dirEntry) IsDir() bool       { return e.mode.IsDir() }
func (e *dirEntry) Type() fs.FileMode { return e.mode.Type() }
func (e *dirEntry) Info() (fs.FileInfo, error) {
	info := fileInfo{name: e.name, mode: e.mode}
	if e.mode.IsRegular() {
		size, err := e.fs.blobSize(e.hash)
		if err != nil {
			return nil, err
		}
		info.size = size
	}
	return info, nil
}

// blobFile streams a blob; the reader is opened at the first Read.
type blobFile struct {
	fs   *treeFS
	hash plumbing.Hash
	info fileInfo

	mu     sync.Mutex
	r      io.ReadCloser
	closed bool
}

func (f *blobFile) Stat() (fs.FileInfo, error) { return f.info, nil }

func (f *blobFile) Read(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.info.name, Err: fs.ErrClosed}
	}
	if f.r == nil {
		r, err := f.open()
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: f.info.name, Err: err}
		}
		f.r = r
	}
	return f.r.Read(b)
}

// open takes the store only to start the reader: go-git's readers own
// their file handle or buffer, so reading needs no lock.
func (f *blobFile) open() (io.ReadCloser, error) {
	f.fs.src.store.Lock()
	defer f.fs.src.store.Unlock()
	if _, err := f.fs.src.readableBlob(f.hash); err != nil {
		return nil, err
	}
	obj, err := f.fs.src.repo.Storer.EncodedObject(plumbing.BlobObject, f.hash)
	if err != nil {
		return nil, err
	}
	return obj.Reader()
}

func (f *blobFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.info.name, Err: fs.ErrClosed}
	}
	f.closed = true
	if f.r == nil {
		return nil
	}
	return f.r.Close()
}

type dirFile struct {
	info    fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: treeError("is a directory")}
}
func (d *dirFile) Close() error { return nil }

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}
