// Package packindex takes in a pack as a fetch streams it and writes its
// index, holding at most a fixed budget of object content in memory
// whatever the pack holds. It replaces go-git's own intake (dotgit's
// PackWriter), whose parser inflates every object whole into one buffer
// to resolve deltas, whether any delta needs it or not.
//
// Figures (sync/gitsource's TestFetchMemoryIsBounded, go-git v5.19.3): a
// repository with a 512 MiB file (1.5 MB on the wire) in an old commit
// took one fetch into a fresh cache to a peak RSS of 525 MiB with go-git's
// intake, against 12 MiB for the same repository without it; with this
// one, 13 MiB.
//
// Whole objects are hashed as they inflate. A delta is applied to its
// base read at the offsets it names (io.ReaderAt), the base held in memory
// while the budget allows and in a temporary file next to the pack
// otherwise. The packs and indexes are those go-git reads back
// (pack-<sum>.pack and a v2 .idx, byte for byte what git index-pack
// writes), so the rest of go-git is unchanged.
//
// What is kept of each object is held in flat arrays (Objects: name,
// offset, CRC-32; its kind; the deltas based on it), about 45 bytes an
// object at most, and the index is written from them (Objects.WriteIndex,
// which packs.Merge also uses for the pack it writes). Indexing the
// 470,000-object pack of bench/bigrepo's repository (BenchmarkIndex)
// peaked at 143 MB of heap with a record per object, go-git's
// idxfile.Writer and a map of offsets; now 41 MB, 16 MiB of it the
// budget of object content.
package packindex
