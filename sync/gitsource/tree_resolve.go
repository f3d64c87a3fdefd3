package gitsource

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// maxLinkHops bounds symlink chains and loops, as Linux's ELOOP does.
const maxLinkHops = 40

// maxLinkTarget bounds what a symlink blob may hold.
const maxLinkTarget = 4096

// MaxLinkSteps bounds what following a commit's symlinks may cost one
// Tree, which is one namespace's render: a sync and a preview take a Tree
// for each namespace they render, so one namespace's links never spend
// another's. Every link read and every directory looked up after one
// counts one. A hop restarts from the
// root, so a link may cost up to maxLinkHops walks of a target's 2,048
// components (80,000 lookups), and a directory listing follows each of
// its links to tell a linked directory from a file: 50,000 such links
// cost 4 billion lookups under the locks every namespace reads through.
// A repository's links usually cost tens of lookups each; past the bound
// a read fails, "too much symlink resolution in <path>".
const MaxLinkSteps = 1 << 20

// errLinkBudget is the commit's links having cost more than MaxLinkSteps.
var errLinkBudget error = treeError("too much symlink resolution")

// target is what a path leads to once every symlink is followed.
type target struct {
	path string // canonical path in the repo, "." for the root
	mode filemode.FileMode
	hash plumbing.Hash
}

func (t target) isDir() bool { return t.mode == filemode.Dir }

func split(p string) []string {
	if p == "." || p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// resolve walks name from the root, following symlinks in every component.
// The path walked is joined only where a link or the answer needs it, so
// a walk costs its components, not their lengths summed.
func (t *treeFS) resolve(name string) (target, error) {
	if !fs.ValidPath(name) {
		return target{}, fs.ErrInvalid
	}
	parts := split(name)
	cur := t.root
	hops := 0
	for i := 0; i < len(parts); i++ {
		if hops > 0 {
			if err := t.spend(name); err != nil {
				return target{}, err
			}
		}
		d, err := t.dirOf(cur)
		if err != nil {
			return target{}, walkErr(parts[:i], err)
		}
		e, ok := d.find(parts[i])
		if !ok {
			return target{}, fs.ErrNotExist
		}
		last := i == len(parts)-1
		switch {
		case e.mode == filemode.Symlink:
			p := strings.Join(parts[:i+1], "/")
			if hops++; hops > maxLinkHops {
				return target{}, fmt.Errorf("%s: %w", p, treeError("too many levels of symbolic links"))
			}
			if err := t.spend(name); err != nil {
				return target{}, err
			}
			dest, err := t.readLink(e.hash)
			if err != nil {
				return target{}, fmt.Errorf("%s: read symlink: %w", p, err)
			}
			joined := path.Join(path.Dir(p), dest)
			if path.IsAbs(dest) || joined == ".." || strings.HasPrefix(joined, "../") {
				return target{}, fmt.Errorf("%s -> %s: %w", p, dest, ErrSymlinkEscape)
			}
			parts = append(split(joined), parts[i+1:]...)
			cur, i = t.root, -1
		case e.mode == filemode.Dir:
			if last {
				return target{path: strings.Join(parts, "/"), mode: e.mode, hash: e.hash}, nil
			}
			cur = e.hash
		case e.mode.IsFile():
			if last {
				return target{path: strings.Join(parts, "/"), mode: e.mode, hash: e.hash}, nil
			}
			return target{}, fs.ErrNotExist // a file used as a directory
		default: // submodules: their commits are not in this repository
			return target{}, fs.ErrNotExist
		}
	}
	// Only the root gets here: named so, or a link's target.
	return target{path: ".", mode: filemode.Dir, hash: cur}, nil
}

// walkErr names the directory walked through whose tree could not be
// read: the path asked may be deep below it.
func walkErr(walked []string, err error) error {
	if len(walked) == 0 {
		return fmt.Errorf("root directory: %w", err)
	}
	return fmt.Errorf("%s: %w", strings.Join(walked, "/"), err)
}

// spend counts one lookup made for a symlink against MaxLinkSteps.
func (t *treeFS) spend(name string) error {
	if t.linkSteps.Add(1) > MaxLinkSteps {
		return fmt.Errorf("%w in %s: the commit's symlinks took more than %d lookups", errLinkBudget, name, MaxLinkSteps)
	}
	return nil
}

func (t *treeFS) readLink(h plumbing.Hash) (string, error) {
	t.src.store.Lock()
	defer t.src.store.Unlock()
	c, err := t.src.costOf(h)
	switch {
	case err != nil:
		return "", err
	case c.Size > maxLinkTarget:
		return "", treeError(fmt.Sprintf("target longer than %d bytes", maxLinkTarget))
	case c.Largest > MaxInMemory:
		return "", rebuiltFromTooLarge(c)
	}
	obj, err := t.src.repo.Storer.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return "", err
	}
	r, err := obj.Reader()
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", treeError("empty target")
	}
	return string(b), nil
}
