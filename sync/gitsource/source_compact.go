package gitsource

import (
	"errors"
	"time"

	"github.com/syncgate/syncgate/sync/gitsource/internal/packs"
)

// maxPacks is how many packs the clone may hold before the small ones are
// merged: go-git writes one pack per fetch and looks an object up in each
// pack's index in turn, each index costing memory too.
const maxPacks = 32

// compact merges the clone's small packs into one once there are more
// than maxPacks, after a fetch (under syncMu, so one merge at a time and
// no other remover of packs). The merge reads packs, which never change,
// without the store lock; only the switch to the merged pack and the
// removal of the packs merged hold it, so that no reader is reading them.
// A merge that fails leaves the packs as they were; it is retried after
// the next fetch. A failure once the merged pack is read (removing the
// packs merged, syncing the directory after) is told apart: what it
// leaves of them costs only its space until a later merge, or the
// opening of the clone, takes it.
func (s *Source) compact() {
	st := s.repo.Storer.(*store)
	s.store.Lock()
	ids := st.packs.ToMerge(maxPacks)
	s.store.Unlock()
	if ids == nil {
		return
	}
	start := time.Now()
	merged, err := packs.Merge(st.packDir, ids)
	if err != nil {
		s.log.Warn("packs of the clone not merged", "packs", len(ids), "err", err)
		return
	}
	s.store.Lock()
	err = st.packs.Replace(merged, ids)
	s.store.Unlock()
	switch {
	case errors.Is(err, packs.ErrMergedNotRead):
		s.log.Warn("packs of the clone merged, but the merged pack not read: the packs merged are still read",
			"packs", len(ids), "into", merged.String(), "err", err)
	case err != nil:
		// The merged pack is read: what failed is removing the packs
		// merged, syncing the directory after, or reading another pack.
		s.log.Warn("packs of the clone merged and read; the packs merged not all removed, or their removal not synced",
			"packs", len(ids), "into", merged.String(), "err", err)
	default:
		s.log.Info("packs of the clone merged", "packs", len(ids), "into", merged.String(),
			"duration", time.Since(start).Round(time.Millisecond))
	}
}
