package syncer

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
)

// correctDrift re-applies the objects of the applied commit whose live state
// no longer matches it. What it re-applied runs the applied commit's
// template again, but is not judged ready by that: undoing a hand edit of a
// Deployment starts a rollout that may fail. The namespace is not settled
// until a rollout wait over every object ends deployed (settled), whichever
// replica leads then (unsettle).
func (w *worker) correctDrift(ctx context.Context) {
	sha := w.version.Status.Applied
	if sha == "" {
		return
	}
	objs, _, _, err := w.render(ctx, sha)
	if err != nil {
		w.log.Warn("drift check skipped", "sha", sha, "err", err)
		return
	}
	res, err := w.s.opts.Applier.Drift(ctx, w.ns, objs, entriesOf(w.version.Status.Inventory))
	if err != nil {
		// A write refused past the first may follow others that landed.
		var partly *apply.ObjectError
		if errors.As(err, &partly) {
			w.unsettle(ctx)
		}
		w.log.Warn("drift correction failed", "sha", sha, "err", err)
		return
	}
	if len(res.Applied) == 0 {
		return
	}
	w.s.metrics.drift.Add(float64(len(res.Applied)))
	names := make([]string, 0, len(res.Applied))
	for _, r := range res.Applied {
		names = append(names, r.Kind+"/"+r.Name)
	}
	w.unsettle(ctx)
	w.log.Info("drift corrected; the next commit waits for every object", "sha", sha, "objects", names)
	w.s.event(w.version, corev1.EventTypeNormal, "DriftCorrected", "re-applied %d drifted object(s) of %s: %v", len(names), status.ShortSHA(sha), names)
}

// unsettle records in the Version that objects were re-applied outside a
// commit's attempt (lifecycle.Unsettle): a leader that takes over, or this
// process started anew, holds the namespace unsettled as this one does.
// Until that write lands, unjudged holds it here, and the next step makes
// it first.
func (w *worker) unsettle(ctx context.Context) {
	w.unjudged = true
	if err := w.recordUnsettled(ctx); err != nil {
		w.log.Warn("cannot record objects re-applied; the next step does", "err", err)
	}
}

func (w *worker) recordUnsettled(ctx context.Context) error {
	at := w.s.opts.Now()
	if err := w.update(ctx, func(st *version.VersionStatus) []status.Update {
		lifecycle.Unsettle(st, at)
		return nil
	}); err != nil {
		return err
	}
	w.unjudged = false
	return nil
}

// settled is lifecycle.Settled, and no re-applied object whose record is
// still to be written: only then is a commit whose inputs are the applied
// commit's recorded deployed without a wait (unchanged), and an attempt
// waits only for the objects it writes.
func (w *worker) settled() bool {
	return !w.unjudged && lifecycle.Settled(&w.version.Status)
}
