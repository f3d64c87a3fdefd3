package syncer

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
)

// reset records that the branch head went back to head, the applied
// commit, before the commits begun since were applied: they fail, with
// the reports a failure owes (lifecycle.Drop). If one of them wrote part
// of its objects, head is marked to be restored, and the next step
// applies it again, its verdict standing.
func (w *worker) reset(ctx context.Context, head string) error {
	at := w.s.opts.Now()
	var owed []status.Update
	partly := false
	if err := w.finish(ctx, func(st *version.VersionStatus) []status.Update {
		partly = lifecycle.PartlyWritten(st)
		owed = lifecycle.Drop(st, head, at, w.s.opts.Cluster)
		return owed
	}); err != nil {
		return err
	}
	if partly {
		w.log.Info("branch reset to the applied commit after a commit since wrote part of its objects; applying it again", "sha", head)
	}
	w.noteDropped(owed, head)
	return nil
}

// noteDropped counts, and tells in an Event and the log, each commit of
// owed that failed on its own but head: dropped from the branch by a
// reset or a force-push (lifecycle.Drop, Begin, Supersede) before it was
// applied or rolled out. A commit that failed with its carrier is told
// with it.
func (w *worker) noteDropped(owed []status.Update, head string) {
	for _, u := range owed {
		if u.SHA == head || u.State != status.Failed || u.CarriedBy != "" {
			continue
		}
		w.s.metrics.ended(w.ns, string(status.Failed))
		w.s.event(w.version, corev1.EventTypeWarning, "Dropped", "%s: %s", status.ShortSHA(u.SHA), u.Reason)
		w.log.Warn("commit dropped from the branch", "sha", u.SHA, "head", head, "reason", u.Reason)
	}
}
