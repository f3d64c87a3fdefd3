package syncer

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/render"
)

// restore applies the applied commit, sha, again to undo what a commit
// since wrote part of before it was refused or dropped from the branch
// (lifecycle.MarkRestore). sha's verdict stands: this is the cluster put
// back, not an attempt. What it re-sent is not judged ready by being sent
// (lifecycle.Unsettle), so the next commit waits for every object. Trouble is
// retried as a step's is, for RetryBudget from when this process began
// the restore; a refusal, or trouble past that, ends the restore, what
// the other commit wrote then staying in the inventory for a later commit.
// Objects with a rollout it sent while sha's rollout had no outcome began
// that rollout again: it is timed from the restore (resent), whether the
// restore then completed, or sent them before it was refused or gave up.
func (w *worker) restore(ctx context.Context, sha string) error {
	if w.restoring != sha {
		w.restoring, w.restoringSince = sha, w.s.opts.Now()
	}
	trouble := func(err error) error {
		if w.s.opts.Now().Sub(w.restoringSince) < w.s.opts.RetryBudget {
			return fmt.Errorf("restore %s: %w", status.ShortSHA(sha), err)
		}
		return w.restoreEnded(ctx, sha, fmt.Errorf("gave up after %s of transient trouble: %w", status.FormatDuration(w.s.opts.RetryBudget), err))
	}
	objs, keys, _, err := w.render(ctx, sha)
	var refusal *render.Error
	switch {
	case errors.As(err, &refusal):
		return w.restoreEnded(ctx, sha, fmt.Errorf("render: %w", err))
	case err != nil:
		return trouble(fmt.Errorf("render: %w", err))
	}
	res, pruneErr, retry, err := w.applyWritten(ctx, sha, objs, keys, w.resent)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return ctx.Err()
	case retry:
		return trouble(fmt.Errorf("apply: %w", err))
	default:
		return w.restoreEnded(ctx, sha, fmt.Errorf("apply: %w", err))
	}
	inventory, pruneFailure := w.pruneOutcome(res, pruneErr)
	if err := w.finish(ctx, func(st *version.VersionStatus) []status.Update {
		st.Inventory = inventory
		w.resent(st, res)
		lifecycle.Restored(st)
		lifecycle.Unsettle(st, w.s.opts.Now())
		return nil
	}); err != nil {
		return err
	}
	w.restoring = ""
	if pruneFailure != nil {
		w.log.Warn("applied commit applied again, but what a commit since added could not all be pruned", "sha", sha, "err", pruneFailure)
		w.s.event(w.version, corev1.EventTypeWarning, "PruneFailed", "%s applied again, not pruned: %s", status.ShortSHA(sha), lifecycle.Bound(pruneFailure.Error(), lifecycle.MaxEventReason))
		return nil
	}
	w.log.Info("applied commit applied again to undo a commit's partial write", "sha", sha, "applied", len(res.Applied), "pruned", len(res.Pruned))
	w.s.event(w.version, corev1.EventTypeNormal, "Restored", "applied %s again to undo what a commit since wrote part of: %s", status.ShortSHA(sha), res.Summary())
	return nil
}

// restoreEnded records a restore that cannot be made: sha's verdict
// stands, and what was written since stays in the inventory without a
// hash, sent again or pruned by the next commit applied.
func (w *worker) restoreEnded(ctx context.Context, sha string, err error) error {
	if ferr := w.finish(ctx, func(st *version.VersionStatus) []status.Update {
		lifecycle.Restored(st)
		return nil
	}); ferr != nil {
		return ferr
	}
	w.restoring = ""
	w.log.Warn("cannot apply the applied commit again to undo a commit's partial write", "sha", sha, "err", err)
	w.s.event(w.version, corev1.EventTypeWarning, "RestoreFailed", "%s could not be applied again to undo what a commit since wrote part of: %s",
		status.ShortSHA(sha), lifecycle.Bound(err.Error(), lifecycle.MaxEventReason))
	return nil
}

// resent records, with what a write of a restore wrote, when it sent
// objects with a rollout (applied, and not ready as applied): the applied
// commit's rollout began again then and, while it has no outcome, is given
// a health timeout of its own from then (lifecycle.Resent). A write that
// was refused or cut short after sending them began it all the same.
func (w *worker) resent(st *version.VersionStatus, res *apply.Result) {
	if res != nil && len(res.Applied) > len(res.Ready) {
		lifecycle.Resent(st, w.s.opts.Now())
	}
}
