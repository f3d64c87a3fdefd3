package render

// A commit costs what it changes: the documents of each plain YAML file a
// namespace's render parsed are kept, as the JSON its YAML converts to,
// under the file's path and git blob id. The next render of the namespace
// parses only the files whose blobs changed; the others are decoded from
// their JSON, which is the second half of parsing them (toMap), so the
// objects are those a full render makes. A file is still charged to the
// render's budget as if read, so the same limits refuse the same trees.

import (
	"io/fs"
	"sync"
)

// cacheBytes bounds what the cache holds, all namespaces together: the
// JSON of about 50,000 small objects. The namespaces rendered longest ago
// are dropped first.
const cacheBytes = 16 << 20

// entryBytes is what an entry costs besides its JSON: maps, keys, slices.
const entryBytes = 256

// blobHasher names the git object a path leads to (gitsource's trees and
// inputs.Recorder do). A tree that cannot is rendered without the cache.
type blobHasher interface {
	Hash(name string) (string, error)
}

// fileKey is a file's path and content.
type fileKey struct{ path, blob string }

// parsed is what a render took from one file that rendered without error.
type parsed struct {
	docs []document
	size int64        // bytes read, charged again
	star *yamlMeasure // what its aliases add, when it has any
	cost int64        // what it holds, for the cache's bound
}

// document is one YAML document of a file as JSON (nil when empty), and
// its YAML when the render keeps it (an encrypted Secret's, for its MAC).
type document struct{ json, yaml []byte }

// fileCache holds, for each namespace, the files its last render parsed.
// Safe for concurrent use; a namespace's renders never read another's.
type fileCache struct {
	mu     sync.Mutex
	max    int64
	total  int64
	clock  uint64
	spaces map[string]*fileSet
}

type fileSet struct {
	files map[fileKey]*parsed
	bytes int64
	used  uint64 // the clock when it was stored
}

func newFileCache(max int64) *fileCache {
	return &fileCache{max: max, spaces: map[string]*fileSet{}}
}

// generation is what one render of a namespace found and parsed; stored,
// it replaces the namespace's set, so the cache holds only files the last
// render read.
type generation struct {
	c     *fileCache
	ns    string
	prev  *fileSet
	files map[fileKey]*parsed
	bytes int64
}

func (c *fileCache) begin(ns string) *generation {
	c.mu.Lock()
	prev := c.spaces[ns]
	c.mu.Unlock()
	return &generation{c: c, ns: ns, prev: prev, files: map[fileKey]*parsed{}}
}

// key is file's path and blob id, when the tree can name it.
func (g *generation) key(tree fs.FS, file string) (fileKey, bool) {
	h, ok := tree.(blobHasher)
	if !ok {
		return fileKey{}, false
	}
	blob, err := h.Hash(file)
	if err != nil {
		return fileKey{}, false // reading it says what is wrong
	}
	return fileKey{file, blob}, true
}

// get is the file parsed by the namespace's last render, kept for this one.
func (g *generation) get(k fileKey, keyed bool) (*parsed, bool) {
	if !keyed || g.prev == nil {
		return nil, false
	}
	p, ok := g.prev.files[k] // immutable once stored
	if ok {
		g.keep(k, p)
	}
	return p, ok
}

func (g *generation) keep(k fileKey, p *parsed) {
	if _, dup := g.files[k]; !dup {
		g.files[k] = p
		g.bytes += p.cost
	}
}

// store makes this render's files the namespace's set, dropping the sets
// of the namespaces rendered longest ago while the cache holds too much.
// A set larger than the bound alone is not kept.
func (g *generation) store() {
	c := g.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.spaces[g.ns]; ok {
		c.total -= old.bytes
		delete(c.spaces, g.ns)
	}
	if g.bytes > c.max || len(g.files) == 0 {
		return
	}
	c.clock++
	c.spaces[g.ns] = &fileSet{files: g.files, bytes: g.bytes, used: c.clock}
	c.total += g.bytes
	for c.total > c.max {
		oldest := ""
		for ns, s := range c.spaces {
			if ns != g.ns && (oldest == "" || s.used < c.spaces[oldest].used) {
				oldest = ns
			}
		}
		c.total -= c.spaces[oldest].bytes
		delete(c.spaces, oldest)
	}
}

// held is what the cache holds, for tests.
func (c *fileCache) held() (namespaces int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.spaces), c.total
}

func newParsed(docs []document, size int64, star *yamlMeasure) *parsed {
	cost := int64(entryBytes)
	for _, d := range docs {
		cost += int64(len(d.json)+len(d.yaml)) + 48
	}
	return &parsed{docs: docs, size: size, star: star, cost: cost}
}
