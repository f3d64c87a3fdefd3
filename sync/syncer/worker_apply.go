package syncer

import (
	"context"
	"errors"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
)

// applyWritten applies sha's objects. A write that failed other than in
// its prune (pruneErr: every object was written) has what it wrote
// recorded (recordWritten, with what also adds to the record of it) and is
// returned as err, with retry telling trouble (apply.Transient) from a
// refusal; the one rule for an attempt and a restore alike.
func (w *worker) applyWritten(ctx context.Context, sha string, objs []*unstructured.Unstructured, keys []string, also recordAlso) (res *apply.Result, pruneErr *apply.PruneError, retry bool, err error) {
	res, err = w.apply(ctx, objs, keys)
	if err == nil || errors.As(err, &pruneErr) {
		return res, pruneErr, false, nil
	}
	if res != nil {
		w.recordWritten(ctx, sha, res, also)
	}
	var refused *apply.ValidationError
	return res, nil, !errors.As(err, &refused) && apply.Transient(err), err
}

// pruneOutcome is the inventory after a complete write, with the objects
// that could not be pruned kept as orphans, and the prune failure the
// commit is failed for: none when every object left over was already an
// orphan before (its removal was reported by the commit that removed it).
func (w *worker) pruneOutcome(res *apply.Result, pruneErr *apply.PruneError) ([]version.InventoryEntry, error) {
	inv := inventoryOf(res.Inventory)
	if pruneErr == nil {
		return inv, nil
	}
	wasOrphan := map[apply.ObjectRef]bool{}
	for _, e := range w.version.Status.Inventory {
		if e.Orphan {
			wasOrphan[refOf(e)] = true
		}
	}
	left := map[apply.ObjectRef]bool{}
	fresh := 0
	for _, r := range pruneErr.Objects {
		left[r] = true
		if !wasOrphan[r] {
			fresh++
		}
	}
	for i := range inv {
		inv[i].Orphan = left[refOf(inv[i])]
	}
	if fresh == 0 {
		w.log.Warn("objects removed from the config repo still cannot be deleted", "err", pruneErr)
		return inv, nil
	}
	return inv, pruneErr
}
