package syncer

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/syncgate/syncgate/status"
)

// correctDrift re-applies the objects of the applied commit whose live state
// no longer matches it.
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
	w.log.Info("drift corrected", "sha", sha, "objects", names)
	w.s.event(w.version, corev1.EventTypeNormal, "DriftCorrected", "re-applied %d drifted object(s) of %s: %v", len(names), status.ShortSHA(sha), names)
}
