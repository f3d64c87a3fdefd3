package gitsource

import (
	"io/fs"

	"github.com/go-git/go-git/v5/plumbing"
)

// TreeCacheEntries is what the decoded-tree cache holds: the entries of
// its trees, and how many of those trees go-git's object cache holds raw
// too.
func (s *Source) TreeCacheEntries() (entries, rawToo int) {
	c := s.trees
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range []map[plumbing.Hash]*dir{c.cur, c.prev} {
		for h, d := range m {
			entries += len(d.entries)
			if _, ok := s.repo.Storer.(*store).objects.Get(h); ok {
				rawToo++
			}
		}
	}
	return entries, rawToo
}

// CommitsCached is how many commits the commit cache holds.
func (s *Source) CommitsCached() int {
	s.commits.mu.Lock()
	defer s.commits.mu.Unlock()
	return len(s.commits.cur) + len(s.commits.prev)
}

// HoldSync holds what Sync holds for its whole run (listing, fetch,
// merge), as a Sync under way does, until release is called.
func (s *Source) HoldSync() (release func()) {
	s.syncMu.Lock()
	return s.syncMu.Unlock
}

// LinkSteps is what tree's symlinks have cost it, of MaxLinkSteps.
func LinkSteps(tree fs.FS) int64 {
	return tree.(*treeFS).linkSteps.Load()
}
