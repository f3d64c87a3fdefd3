package gitsource

import (
	"sort"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// dir is a decoded tree object: entries in name order. Immutable once
// built, so one copy serves every reader and every commit sharing it.
type dir struct {
	entries []entry
	read    int64 // what reading it from the store inflates (readCost)
	cost    int   // bytes held: the tree's content (the names) and the entries
}

type entry struct {
	name string
	mode filemode.FileMode
	hash plumbing.Hash
}

func (d *dir) find(name string) (entry, bool) {
	i := sort.Search(len(d.entries), func(i int) bool { return d.entries[i].name >= name })
	if i < len(d.entries) && d.entries[i].name == name {
		return d.entries[i], true
	}
	return entry{}, false
}

// treeCache keeps decoded trees by hash, in two generations: the trees
// read since the followed head last moved, and those read for the head
// before it. A render of the new head finds every tree it shares with the
// last one (and takes it into the new generation); a tree no render of
// the last two heads read is dropped. So the cache holds the trees of
// about two commits, whatever the history: every commit of a directory of
// a thousand files brings a new tree of it, and a cache bounded only by
// size kept the last 65 of them, to no use. A generation is also bounded
// by the bytes its trees hold (names included: a tree of one entry may
// name it with megabytes), not their number, and starts over when it
// fills, for the reads between heads (previews of pull requests). A tree
// larger than a generation is its only tree, so the cache holds at most
// two generations or two trees, each within MaxInMemory plus MaxDirEntries
// entries.
type treeCache struct {
	mu        sync.Mutex
	max       int // bytes of one generation
	size      int // bytes of cur
	cur, prev map[plumbing.Hash]*dir
}

func newTreeCache(maxBytes int) *treeCache {
	return &treeCache{max: maxBytes, cur: map[plumbing.Hash]*dir{}}
}

func (c *treeCache) get(h plumbing.Hash) (*dir, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.cur[h]; ok {
		return d, true
	}
	if d, ok := c.prev[h]; ok {
		c.putLocked(h, d)
		return d, true
	}
	return nil, false
}

// turn starts a generation: the followed head moved.
func (c *treeCache) turn() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prev, c.cur, c.size = c.cur, map[plumbing.Hash]*dir{}, 0
}

func (c *treeCache) put(h plumbing.Hash, d *dir) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(h, d)
}

func (c *treeCache) putLocked(h plumbing.Hash, d *dir) {
	if _, ok := c.cur[h]; ok {
		return // two readers decoded it at once
	}
	if c.size+d.cost > c.max {
		c.prev, c.cur, c.size = c.cur, map[plumbing.Hash]*dir{}, 0
	}
	c.cur[h] = d
	c.size += d.cost
}

// dirOf returns the decoded tree h, from the cache or the store, charged
// first what reading it from the store inflates: from the cache as the
// store's read did, else from its delta chain's headers before anything is
// inflated.
func (s *Source) dirOf(h plumbing.Hash, charge func(size int64) error) (*dir, error) {
	if d, ok := s.trees.get(h); ok {
		if err := charge(d.read); err != nil {
			return nil, err
		}
		return d, nil
	}
	d, err := s.readTree(h, charge)
	if err != nil {
		return nil, err
	}
	s.trees.put(h, d)
	return d, nil
}

// rawTreesApart is go-git's object cache without trees or commits. Every
// tree read is decoded once and kept in treeCache; go-git kept its raw
// bytes too, and those filled its cache (10 of the 26 MB the agent held
// after 600 commits of one file of a thousand). A tree that is a delta base
// is read again from its pack when another delta needs it, and that is
// charged to the Tree reading (MaxTreeBytes): a base is in no cache a
// render could count on. Commits are
// read once each into the graph, and a head's once more for its tree:
// opening a clone of 50,000 commits filled the cache with them (16 MB
// held for its 8 MiB of content).
type rawTreesApart struct{ cache.Object }

func (c rawTreesApart) Put(o plumbing.EncodedObject) {
	if t := o.Type(); t != plumbing.TreeObject && t != plumbing.CommitObject {
		c.Object.Put(o)
	}
}
