package version

// Packing and unpacking the inventory is most of a status write's cost to
// syncgate when a namespace holds many objects: 1,000 entries took 15 ms
// of processor time per write (gzip and JSON, the write's body and its
// answer, and the informer's copy decoded again), against 0.2 ms for an
// empty inventory (BenchmarkStatusRoundTrip). Most writes leave the
// inventory as it was (a commit's transitions, unchanged namespaces, owed
// reports delivered), so the packed form of each inventory and the entries
// of each packed form are kept, and a write costs a hash of what it
// carries instead.

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"slices"
	"sync"
)

// maxCachedEntries bounds the inventory entries kept, packed and unpacked
// (about 200 bytes each): past it the cache starts over.
const maxCachedEntries = 50_000

// inventoryCache maps inventories to their packed form and back, by the
// SHA-256 of each.
type inventoryCache struct {
	mu       sync.Mutex
	packed   map[[32]byte][]byte           // hash of the entries → packed
	unpacked map[[32]byte][]InventoryEntry // hash of the packed bytes → entries
	entries  int
}

var invCache = &inventoryCache{}

// gzipWriters reuse gzip's writers: each holds about 800 KiB of tables.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

// pack returns the packed form of inv, packing it only if it was not seen.
func (c *inventoryCache) pack(inv []InventoryEntry) ([]byte, error) {
	key := entriesKey(inv)
	c.mu.Lock()
	packed, ok := c.packed[key]
	c.mu.Unlock()
	if ok {
		return packed, nil
	}
	packed, err := packInventory(inv)
	if err != nil {
		return nil, err
	}
	c.keep(key, sha256.Sum256(packed), packed, inv)
	return packed, nil
}

// unpack returns the entries packed holds, a copy the caller may change.
func (c *inventoryCache) unpack(packed []byte) ([]InventoryEntry, error) {
	key := sha256.Sum256(packed)
	c.mu.Lock()
	inv, ok := c.unpacked[key]
	c.mu.Unlock()
	if ok {
		return slices.Clone(inv), nil
	}
	inv, err := unpackInventory(packed)
	if err != nil {
		return nil, err
	}
	c.keep(entriesKey(inv), key, slices.Clone(packed), inv)
	return inv, nil
}

func (c *inventoryCache) keep(entriesKey, packedKey [32]byte, packed []byte, inv []InventoryEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.unpacked[packedKey]; ok {
		return
	}
	if c.packed == nil || c.entries+len(inv) > maxCachedEntries {
		c.packed, c.unpacked, c.entries = map[[32]byte][]byte{}, map[[32]byte][]InventoryEntry{}, 0
	}
	c.packed[entriesKey] = packed
	c.unpacked[packedKey] = slices.Clone(inv)
	c.entries += len(inv)
}

// entriesKey is the SHA-256 of inv's fields, each length-prefixed.
func entriesKey(inv []InventoryEntry) [32]byte {
	buf := make([]byte, 0, 128*len(inv))
	field := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	for _, e := range inv {
		field(e.Group)
		field(e.Version)
		field(e.Kind)
		field(e.Namespace)
		field(e.Name)
		field(e.Hash)
		if e.Orphan {
			buf = append(buf, 1)
		} else {
			buf = append(buf, 0)
		}
	}
	return sha256.Sum256(buf)
}
