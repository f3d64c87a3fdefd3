// Package packs reads a clone's objects from its packs, each index held
// compactly (28 bytes an object), tells what reading one inflates from the
// headers of its delta chain (Cost: go-git inflates every base whole, and
// a small object may be a delta off a huge one), and merges the small packs fetches leave
// into one, streaming: entries are copied compressed, the new pack's
// index written from what the copy knows of each (no object inflated),
// then the packs merged are removed. A merge killed at any point leaves a readable clone: the new
// pack and its index are in place before anything is removed, and a pack
// is removed before its index. The directory is synced after the renames
// and again after the removals, so a power cut brings back no pack once
// Replace returned.
package packs
