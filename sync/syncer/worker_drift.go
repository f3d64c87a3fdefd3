package syncer

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/sync/apply"
)

// correctDrift re-applies the objects of the applied commit whose live state
// no longer matches it. What it re-applied runs the applied commit's
// template again, but is not judged ready by that: undoing a hand edit of a
// Deployment starts a rollout that may fail. The namespace is not settled
// until a rollout wait over every object ends deployed (settled).
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
			w.unsettle()
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
	w.unsettle()
	w.log.Info("drift corrected; the next commit waits for every object", "sha", sha, "objects", names)
	w.s.event(w.version, corev1.EventTypeNormal, "DriftCorrected", "re-applied %d drifted object(s) of %s: %v", len(names), status.ShortSHA(sha), names)
}

// unsettle notes objects re-applied outside a commit's attempt. The note
// is kept in memory, as what the applied commit's render read is (w.read):
// drift correction and the steps run on the worker's goroutine alone, and
// a process that starts anew never records a commit unchanged before it
// has rendered, applied and waited for one.
func (w *worker) unsettle() {
	w.unjudged = true
}

// judged notes that a rollout wait ended deployed. While objects re-applied
// by a drift correction were unjudged, that wait was over every object the
// server did not answer ready (attempt, Await): all are judged now.
func (w *worker) judged() {
	w.unjudged = false
}

// settled is lifecycle.Settled, and no object re-applied by a drift
// correction left unjudged: only then is a commit whose inputs are the
// applied commit's recorded deployed without a wait (unchanged), and an
// attempt waits only for the objects it writes.
func (w *worker) settled() bool {
	return !w.unjudged && lifecycle.Settled(&w.version.Status)
}
