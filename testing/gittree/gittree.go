// Package gittree is a commit's files in memory that name their objects by
// content, as a git tree does, for the tests of what tells unchanged inputs
// apart (sync/inputs, sync/syncer) without a repository.
package gittree

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"testing/fstest"
)

// Tree is a MapFS whose Hash is a file's content hash, and a directory's
// the hash of the paths and contents below it.
type Tree struct{ fstest.MapFS }

// New is a tree holding files (path → content).
func New(files map[string]string) Tree {
	m := fstest.MapFS{}
	for p, data := range files {
		m[p] = &fstest.MapFile{Data: []byte(data)}
	}
	return Tree{m}
}

// Hash names the object at name by its content.
func (t Tree) Hash(name string) (string, error) {
	st, err := fs.Stat(t.MapFS, name)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if !st.IsDir() {
		b, _ := fs.ReadFile(t.MapFS, name)
		h.Write(b)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	_ = fs.WalkDir(t.MapFS, name, func(p string, d fs.DirEntry, _ error) error {
		h.Write([]byte(p))
		if !d.IsDir() {
			b, _ := fs.ReadFile(t.MapFS, p)
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), nil
}
