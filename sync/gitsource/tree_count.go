package gitsource

import "io/fs"

// CountEntries is how many entries directory name holds, read from its
// decoded git tree without building a listing, so that a reader bounding
// what it lists (render's Entries) refuses a huge directory before paying
// for one fs.DirEntry per file. It is the length of ReadDir's answer but
// for submodules, which git holds and ReadDir leaves out.
func (t *treeFS) CountEntries(name string) (int, error) {
	tg, err := t.resolve(name)
	if err != nil {
		return 0, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	if !tg.isDir() {
		return 0, &fs.PathError{Op: "readdir", Path: name, Err: treeError("not a directory")}
	}
	d, err := t.dirOf(tg.hash)
	if err != nil {
		return 0, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return len(d.entries), nil
}
