package gitsource

import (
	"fmt"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
)

// MaxTreeBytes is what a Tree reads of git trees, unless its reader says
// otherwise (LimitTreeBytes; render's Limits.TreeBytes). A Tree is one
// namespace's render, and a tree is inflated under the lock of the object
// store every namespace reads through, so the bound is what one commit can
// hold the others up by. Each distinct tree counts once per Tree, whether
// the cache holds it or not (the verdict on a commit does not depend on
// what other renders read before), told from the headers of its delta
// chain before anything is inflated: its size, and for a tree stored as a
// delta, what go-git inflates to rebuild it (the chain's base, each delta
// and what it makes), which a small tree deltified off a big base would
// otherwise cost every read uncounted; plus treeOverhead for the tree and
// each delta. A walk through a big monorepo's directories reads a few MB
// (every directory of syncgate's own repository, repacked as git gc
// --aggressive does: 109 kB at its head, 370 kB at an older commit, whose
// trees are deeper in their chains); a tree and every
// object of its chain are at most MaxInMemory, so four of the largest fit.
const MaxTreeBytes = 64 << 20

// treeOverhead is charged for every tree besides its bytes, and for each
// delta of its chain: what a read costs whatever its size (the lock, the
// header, the hash remembered), so that a Tree remembers at most
// MaxTreeBytes/treeOverhead hashes.
const treeOverhead = 256

// errTreeBudget is the commit's trees having cost a Tree more than its
// bound.
var errTreeBudget error = treeError("too many bytes of git trees")

// treeBudget is what a Tree has left of its bound on tree bytes.
type treeBudget struct {
	mu    sync.Mutex
	max   int64
	spent int64
	seen  map[plumbing.Hash]struct{}
}

// charge counts tree h, whose read inflates size bytes, once per budget.
func (b *treeBudget) charge(h plumbing.Hash, size int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.seen[h]; ok {
		return nil
	}
	if b.spent+size+treeOverhead > b.max {
		return fmt.Errorf("%w: the render reads more than %d bytes of the commit's git trees (each directory walked or listed counts once, with the delta bases rebuilding it)", errTreeBudget, b.max)
	}
	if b.seen == nil {
		b.seen = map[plumbing.Hash]struct{}{}
	}
	b.seen[h] = struct{}{}
	b.spent += size + treeOverhead
	return nil
}

// LimitTreeBytes bounds what the Tree reads of git trees from now on, in
// place of MaxTreeBytes; n <= 0 leaves the bound as it is. What was read
// before counts.
func (t *treeFS) LimitTreeBytes(n int64) {
	if n <= 0 {
		return
	}
	t.trees.mu.Lock()
	t.trees.max = n
	t.trees.mu.Unlock()
}

// dirOf returns the decoded tree h, charged to t.
func (t *treeFS) dirOf(h plumbing.Hash) (*dir, error) {
	return t.src.dirOf(h, func(size int64) error { return t.trees.charge(h, size) })
}
