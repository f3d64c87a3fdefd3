package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
)

// hold keeps v as the Version last read or written; the commit in flight
// it says is reported from here alone.
func (w *worker) hold(v *version.Version) {
	w.version = v
	w.s.metrics.inFlight(w.ns, &v.Status)
}

// mark records one transition and the reports it owes.
func (w *worker) mark(ctx context.Context, t lifecycle.Transition) error {
	return w.update(ctx, func(st *version.VersionStatus) []status.Update {
		return t.Apply(st, w.s.opts.Cluster)
	})
}

// finish is update for a write that must land (a commit's outcome, what is
// live after an apply): it is retried until it does or ctx ends.
func (w *worker) finish(ctx context.Context, fn func(*version.VersionStatus) []status.Update) error {
	pause := firstPause
	for {
		err := w.update(ctx, fn)
		if err == nil || ctx.Err() != nil {
			return err
		}
		w.log.Warn("cannot record a commit's outcome; retrying", "err", err)
		if !w.backOff(ctx, pause) {
			return ctx.Err()
		}
		pause = min(2*pause, w.s.opts.RetryInterval)
	}
}

// firstPause is the pause after a status write that must land failed;
// each failure after doubles it, up to RetryInterval.
const firstPause = 100 * time.Millisecond

// backOff pauses d before a failed status write is tried again, or less
// when ctx ends; it reports whether ctx is live. The worker holds neither
// Options.Gate nor Syncer.changed meanwhile (pause), and holds the gate
// again once the pause ends.
func (w *worker) backOff(ctx context.Context, d time.Duration) bool {
	w.pause()
	defer w.busy()
	return w.s.sleep(ctx, d)
}

// recordAfterEnd bounds the write of what a failed apply wrote once the
// run's ctx ended.
const recordAfterEnd = 5 * time.Second

// errWrittenSince refuses a write over a Version someone else wrote since
// this worker last did.
var errWrittenSince = errors.New("the Version was written since: another leader's record stands")

// recordAlso is what a failed write records of what it wrote besides its inventory.
type recordAlso func(st *version.VersionStatus, res *apply.Result)

// recordWritten records the inventory of an apply that failed once writing
// began: what it wrote (and what may have been stored though its answer
// was lost) is live and must stay known, so a later commit prunes what this
// one created. The apply fails too when the run's ctx ends (shutdown,
// leadership lost): the write is then made all the same, within
// recordAfterEnd, over the status this worker last wrote only (updateOver):
// a leader that took over meanwhile keeps its record. also, when not nil,
// is recorded with it.
func (w *worker) recordWritten(ctx context.Context, sha string, res *apply.Result, also recordAlso) {
	written := func(st *version.VersionStatus) []status.Update {
		st.Inventory = partialInventory(st.Inventory, res.Inventory)
		if also != nil {
			also(st, res)
		}
		return nil
	}
	err := ctx.Err()
	if err == nil {
		err = w.update(ctx, written)
	}
	// ctx may end during update too: its write then failed on it. One
	// that landed before the end is not made again.
	if err != nil && ctx.Err() != nil {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordAfterEnd)
		err = w.updateOver(wctx, w.version, written)
		cancel()
	}
	if err != nil {
		w.log.Warn("cannot record what a failed apply wrote", "sha", sha, "err", err)
	}
}

// updateOver is update that writes only over last's status, at its
// resourceVersion; when that conflicts, over the status read again only if
// what the syncer writes there is last's (syncerWritten): the outbox writes
// the rest meanwhile. Otherwise it fails with errWrittenSince. It does not
// create a deleted Version again.
func (w *worker) updateOver(ctx context.Context, last *version.Version, fn func(*version.VersionStatus) []status.Update) error {
	if last == nil {
		return fmt.Errorf("record status of %s: no Version written", w.ns)
	}
	was := syncerWritten(&last.Status)
	over := func(st *version.VersionStatus) error {
		if !equality.Semantic.DeepEqual(syncerWritten(st), was) {
			return errWrittenSince
		}
		fn(st)
		return nil
	}
	var v *version.Version
	var err error
	if from, ok := w.s.opts.Store.(fromLast); ok && last.ResourceVersion != "" {
		v, err = from.UpdateStatusFrom(ctx, last, over)
	} else {
		v, err = w.s.opts.Store.UpdateStatus(ctx, w.ns, over)
	}
	if err != nil {
		return fmt.Errorf("record status of %s: %w", w.ns, err)
	}
	if v == nil {
		return fmt.Errorf("record status of %s: the Version is gone", w.ns)
	}
	w.hold(v)
	return nil
}

// syncerWritten is the part of st the syncer writes: all but what the
// outbox writes as it delivers, the reports owed, what sinks keep of each
// commit and the Reporting condition. A Version whose part differs from
// the one a worker last wrote was written since by another leader.
func syncerWritten(st *version.VersionStatus) *version.VersionStatus {
	own := st.DeepCopy()
	own.Owed = nil
	for i := range own.History {
		own.History[i].SinkRefs = nil
	}
	own.Conditions = slices.DeleteFunc(own.Conditions, func(c metav1.Condition) bool {
		return c.Type == version.ConditionReporting
	})
	if len(own.Conditions) == 0 {
		own.Conditions = nil
	}
	return own
}

// fromLast is a Store that writes starting from the Version last written,
// with no read first (version.Store does).
type fromLast interface {
	UpdateStatusFrom(ctx context.Context, last *version.Version, fn func(*version.VersionStatus) error) (*version.Version, error)
}

// update writes the Version status; the reports a change owes are recorded in
// the same write, so none is lost if the process dies right after. A
// Version deleted under the syncer is created again first.
func (w *worker) update(ctx context.Context, fn func(*version.VersionStatus) []status.Update) error {
	owed := 0
	write := func(st *version.VersionStatus) error {
		owed = 0
		for _, u := range fn(st) {
			u.Namespace = w.ns
			if w.s.opts.Outbox != nil {
				w.s.opts.Outbox.Record(st, u)
			}
			owed++
		}
		return nil
	}
	var v *version.Version
	var err error
	began := time.Now()
	defer func() {
		w.spans.writes++
		w.spans.writing += time.Since(began)
	}()
	if from, ok := w.s.opts.Store.(fromLast); ok && w.version != nil && w.version.ResourceVersion != "" {
		v, err = from.UpdateStatusFrom(ctx, w.version, write)
	} else {
		v, err = w.s.opts.Store.UpdateStatus(ctx, w.ns, write)
	}
	if errors.Is(err, version.ErrNotFound) {
		if rerr := w.recreate(ctx); rerr != nil {
			return fmt.Errorf("record status of %s: %w", w.ns, rerr)
		}
		v, err = w.s.opts.Store.UpdateStatus(ctx, w.ns, write)
	}
	if err != nil {
		return fmt.Errorf("record status of %s: %w", w.ns, err)
	}
	if v == nil {
		return fmt.Errorf("record status of %s: the Version is gone", w.ns)
	}
	w.hold(v)
	if owed > 0 && w.s.opts.Outbox != nil {
		w.s.opts.Outbox.Kick()
	}
	return nil
}

// recreate makes a new Version after someone deleted it. The status this
// process last wrote, or else the one the replica's informer last saw, is
// written back whole (history, verdicts, inventory, owed reports), so no
// answer changes; with neither (deleted while no replica ran) the inventory
// is found again from syncgate's label on the live objects, so the branch
// head is applied again and what it lacks pruned.
func (w *worker) recreate(ctx context.Context) error {
	last := w.version
	if !recorded(last) && w.s.opts.Remembered != nil {
		last = w.s.opts.Remembered(w.ns)
	}
	v, err := w.s.opts.Store.Ensure(ctx, w.ns, w.s.opts.Spec)
	if err != nil {
		return err
	}
	if len(v.Status.History) > 0 || v.Status.Applied != "" {
		w.hold(v) // someone else wrote it already
		return nil
	}
	var restore func(*version.VersionStatus)
	if recorded(last) {
		w.log.Warn("the Version resource was deleted; created again with the status last written")
		saved := last.Status.DeepCopy()
		restore = func(st *version.VersionStatus) { *st = *saved.DeepCopy() }
		w.s.event(v, corev1.EventTypeWarning, "Recreated", "the Version was deleted; created again with the status last written (%d commits, %d objects)",
			len(saved.History), len(saved.Inventory))
	} else {
		owned, err := w.s.opts.Applier.Owned(ctx, w.ns)
		if err != nil {
			return fmt.Errorf("find what syncgate applied: %w", err)
		}
		w.log.Warn("the Version resource was deleted; created again with the objects found by label", "objects", len(owned))
		restore = func(st *version.VersionStatus) { st.Inventory = inventoryOf(owned) }
		w.s.event(v, corev1.EventTypeWarning, "Recreated", "the Version was deleted; created again with %d object(s) found by label", len(owned))
	}
	v, err = w.s.opts.Store.UpdateStatus(ctx, w.ns, func(st *version.VersionStatus) error {
		if len(st.History) == 0 && st.Applied == "" {
			restore(st)
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.hold(v)
	return nil
}

// recorded reports whether v holds anything worth restoring.
func recorded(v *version.Version) bool {
	return v != nil && (len(v.Status.History) > 0 || len(v.Status.Inventory) > 0)
}

// ensureVersion makes sure the namespace has a Version: after it was
// deleted, it is created again (recreate) before anything else happens.
func (w *worker) ensureVersion(ctx context.Context) error {
	if !w.gone.Swap(false) {
		return nil
	}
	if err := w.recreate(ctx); err != nil {
		w.gone.Store(true)
		return fmt.Errorf("create the deleted Version of %s again: %w", w.ns, err)
	}
	return nil
}

// noteSource shows git trouble on the Version, and clears it once fixed.
func (w *worker) noteSource(ctx context.Context, err error) {
	var changed bool
	st := w.version.Status.DeepCopy()
	if !lifecycle.SetSourceCondition(st, err) {
		return
	}
	if uerr := w.update(ctx, func(st *version.VersionStatus) []status.Update {
		changed = lifecycle.SetSourceCondition(st, err)
		return nil
	}); uerr != nil {
		w.log.Warn("cannot record config repo condition", "err", uerr)
	}
	if changed && err != nil {
		w.s.event(w.version, corev1.EventTypeWarning, "SourceUnavailable", "config repo: %v", err)
	}
}
