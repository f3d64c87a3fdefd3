package gitsource

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ErrSymlinkEscape refuses a symlink that points outside the repository.
var ErrSymlinkEscape = errors.New("symlink leaves the repository")

// treeFS serves a commit's tree as an io/fs.FS. Symlinks inside the repo
// are followed; one that leaves it is an error naming the link.
type treeFS struct {
	root   *object.Tree
	storer storer.EncodedObjectStorer
}

var (
	_ fs.ReadFileFS = (*treeFS)(nil)
	_ fs.ReadDirFS  = (*treeFS)(nil)
)

const maxLinkHops = 16

// resolve finds the entry at name, following symlinks in every component.
func (t *treeFS) resolve(name string) (*object.TreeEntry, *object.Tree, string, error) {
	if !fs.ValidPath(name) {
		return nil, nil, "", fs.ErrInvalid
	}
	if name == "." {
		return nil, t.root, ".", nil
	}
	parts := strings.Split(name, "/")
	hops := 0
	cur := t.root
	curPath := ""
	for i := 0; i < len(parts); i++ {
		e, err := cur.FindEntry(parts[i])
		if err != nil {
			return nil, nil, "", fs.ErrNotExist
		}
		p := path.Join(curPath, parts[i])
		if e.Mode == filemode.Symlink {
			hops++
			if hops > maxLinkHops {
				return nil, nil, "", fmt.Errorf("%s: too many symlinks", p)
			}
			target, err := t.linkTarget(cur, e)
			if err != nil {
				return nil, nil, "", err
			}
			if path.IsAbs(target) {
				return nil, nil, "", fmt.Errorf("%s -> %s: %w", p, target, ErrSymlinkEscape)
			}
			joined := path.Join(curPath, target)
			if joined == ".." || strings.HasPrefix(joined, "../") {
				return nil, nil, "", fmt.Errorf("%s -> %s: %w", p, target, ErrSymlinkEscape)
			}
			rest := append(strings.Split(joined, "/"), parts[i+1:]...)
			if joined == "." {
				rest = parts[i+1:]
			}
			parts, i, cur, curPath = rest, -1, t.root, ""
			if len(parts) == 0 {
				return nil, t.root, ".", nil
			}
			continue
		}
		if i == len(parts)-1 {
			if e.Mode == filemode.Dir {
				sub, err := cur.Tree(parts[i])
				if err != nil {
					return nil, nil, "", err
				}
				return e, sub, p, nil
			}
			return e, nil, p, nil
		}
		if e.Mode != filemode.Dir {
			return nil, nil, "", fs.ErrNotExist
		}
		if cur, err = cur.Tree(parts[i]); err != nil {
			return nil, nil, "", err
		}
		curPath = p
	}
	return nil, nil, "", fs.ErrNotExist
}

func (t *treeFS) linkTarget(dir *object.Tree, e *object.TreeEntry) (string, error) {
	f, err := dir.TreeEntryFile(e)
	if err != nil {
		return "", err
	}
	s, err := f.Contents()
	return strings.TrimSpace(s), err
}

func (t *treeFS) Open(name string) (fs.File, error) {
	e, dir, p, err := t.resolve(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if dir != nil {
		entries, err := t.dirEntries(dir, p)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dirFile{info: info{name: path.Base(name), dir: true}, entries: entries}, nil
	}
	b, err := t.read(e, name)
	if err != nil {
		return nil, err
	}
	return &file{info: info{name: path.Base(name), size: int64(len(b))}, r: bytes.NewReader(b)}, nil
}

func (t *treeFS) read(e *object.TreeEntry, name string) ([]byte, error) {
	blob, err := object.GetBlob(t.storer, e.Hash)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (t *treeFS) ReadFile(name string) ([]byte, error) {
	e, dir, _, err := t.resolve(name)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if dir != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	return t.read(e, name)
}

func (t *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	_, dir, p, err := t.resolve(name)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	if dir == nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return t.dirEntries(dir, p)
}

// dirEntries lists a directory, reporting symlinks as what they point at.
func (t *treeFS) dirEntries(dir *object.Tree, p string) ([]fs.DirEntry, error) {
	out := make([]fs.DirEntry, 0, len(dir.Entries))
	for _, e := range dir.Entries {
		if e.Mode == filemode.Submodule {
			continue
		}
		isDir := e.Mode == filemode.Dir
		if e.Mode == filemode.Symlink {
			_, target, _, err := t.resolve(path.Join(p, e.Name))
			if err != nil {
				return nil, err
			}
			isDir = target != nil
		}
		out = append(out, info{name: e.Name, dir: isDir})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// info is both fs.FileInfo and fs.DirEntry.
type info struct {
	name string
	size int64
	dir  bool
}

func (i info) Name() string       { return i.name }
func (i info) Size() int64        { return i.size }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.dir }
func (i info) Sys() any           { return nil }
func (i info) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i info) Type() fs.FileMode          { return i.Mode().Type() }
func (i info) Info() (fs.FileInfo, error) { return i, nil }

type file struct {
	info
	r *bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Read(b []byte) (int, error) { return f.r.Read(b) }
func (f *file) Close() error               { return nil }

type dirFile struct {
	info
	entries []fs.DirEntry
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error)   { return 0, errors.New("is a directory") }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.off += n
	return rest[:n], nil
}
