package buildproc

import (
	"path"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/syncgate/syncgate/sync/render/internal/wire"
)

// source is the repository as a build process reaches it: through the
// parent, which reads, measures and may refuse.
type source interface {
	list(dir string) ([]wire.Entry, error)
	read(file string) ([]byte, error)
}

// repoFS is kustomize's view of the repository, in the build process: an
// in-memory file system filled on demand. A directory's entries appear
// when kustomize first looks at or below it (so symlink loops cost nothing
// until walked); a file's content is asked for each time kustomize reads
// it, so the parent counts every read.
type repoFS struct {
	filesys.FileSystem
	src source

	listed map[string]bool // directories whose entries are in memory
	files  map[string]bool // files of the repository, from listings
}

func newRepoFS(src source) *repoFS {
	return &repoFS{
		FileSystem: filesys.MakeFsInMemory(),
		src:        src,
		listed:     map[string]bool{}, files: map[string]bool{},
	}
}

// ensure lists every directory on the way to p, and p when it is one.
func (f *repoFS) ensure(p string) string {
	p = wire.Clean(p)
	f.list("/")
	dir := "/"
	for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if part == "" {
			break
		}
		dir = path.Join(dir, part)
		if !f.FileSystem.IsDir(dir) {
			break
		}
		f.list(dir)
	}
	return p
}

// list puts dir's entries in memory, once. A directory the parent cannot
// list stays empty: the parent notes why.
func (f *repoFS) list(dir string) {
	if f.listed[dir] {
		return
	}
	f.listed[dir] = true
	entries, err := f.src.list(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		full := path.Join(dir, e.Name)
		if e.Dir {
			_ = f.FileSystem.MkdirAll(full)
			continue
		}
		_ = f.FileSystem.WriteFile(full, nil)
		f.files[full] = true
	}
}

// listAll lists everything below p, for Walk and Glob.
func (f *repoFS) listAll(p string) {
	queue := []string{f.ensure(p)}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if !f.FileSystem.IsDir(d) {
			continue
		}
		f.list(d)
		names, _ := f.FileSystem.ReadDir(d)
		for _, n := range names {
			queue = append(queue, path.Join(d, n))
		}
	}
}

// load puts a file's current content in memory.
func (f *repoFS) load(p string) error {
	if !f.files[p] {
		return nil // not a file of the repository: the in-memory error
	}
	b, err := f.src.read(p)
	if err != nil {
		return err
	}
	return f.FileSystem.WriteFile(p, b)
}

func (f *repoFS) Open(p string) (filesys.File, error) {
	p = f.ensure(p)
	if err := f.load(p); err != nil {
		return nil, err
	}
	return f.FileSystem.Open(p)
}

func (f *repoFS) ReadFile(p string) ([]byte, error) {
	p = f.ensure(p)
	if err := f.load(p); err != nil {
		return nil, err
	}
	return f.FileSystem.ReadFile(p)
}

func (f *repoFS) IsDir(p string) bool  { return f.FileSystem.IsDir(f.ensure(p)) }
func (f *repoFS) Exists(p string) bool { return f.FileSystem.Exists(f.ensure(p)) }
func (f *repoFS) ReadDir(p string) ([]string, error) {
	return f.FileSystem.ReadDir(f.ensure(p))
}

func (f *repoFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	return f.FileSystem.CleanedAbs(f.ensure(p))
}

func (f *repoFS) Glob(pattern string) ([]string, error) {
	f.listAll("/")
	return f.FileSystem.Glob(pattern)
}

func (f *repoFS) Walk(p string, fn filepath.WalkFunc) error {
	f.listAll(p)
	return f.FileSystem.Walk(wire.Clean(p), fn)
}
