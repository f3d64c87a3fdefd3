package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/sync/render"
)

// errSuperseded ends a rollout wait when a newer commit arrives.
var errSuperseded = errors.New("superseded by a newer commit")

// worker carries commits into one namespace, one at a time.
type worker struct {
	s   *Syncer
	ns  string
	log *slog.Logger

	wake chan struct{}

	mu        sync.Mutex
	want      string
	wantErr   error
	rolling   string
	interrupt context.CancelCauseFunc

	version *version.Version // last written, for events
}

func newWorker(s *Syncer, ns string) *worker {
	return &worker{s: s, ns: ns, log: s.log.With("namespace", ns), wake: make(chan struct{}, 1)}
}

// offer hands the worker the branch head; a rollout of another commit in
// flight is interrupted so the newer one can be applied.
func (w *worker) offer(head string, err error) {
	w.mu.Lock()
	if head != "" {
		w.want = head
	}
	w.wantErr = err
	if w.interrupt != nil && head != "" && w.rolling != head {
		w.interrupt(errSuperseded)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) run(ctx context.Context) {
	v, err := w.s.opts.Store.Ensure(ctx, w.ns, w.s.opts.Spec)
	for err != nil {
		w.log.Error("cannot create the Version resource", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.s.opts.RetryInterval):
		}
		v, err = w.s.opts.Store.Ensure(ctx, w.ns, w.s.opts.Spec)
	}
	if v == nil {
		w.log.Error("the Version resource could not be read back")
		return
	}
	w.version = v
	w.resume(ctx, v)

	var drift <-chan time.Time
	if w.s.opts.DriftInterval > 0 {
		t := time.NewTicker(w.s.opts.DriftInterval)
		defer t.Stop()
		drift = t.C
	}
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-retry:
		case <-drift:
			w.correctDrift(ctx)
			continue
		}
		retry = nil
		w.mu.Lock()
		want, wantErr := w.want, w.wantErr
		w.mu.Unlock()
		w.noteSource(ctx, wantErr)
		if want == "" {
			continue
		}
		if err := w.process(ctx, want); err != nil && ctx.Err() == nil {
			w.log.Warn("commit not applied; will retry", "sha", want, "err", err)
			retry = time.After(w.s.opts.RetryInterval)
		}
	}
}

// resume picks up where a previous leader stopped: a rollout in progress is
// waited on, not re-applied or re-reported.
func (w *worker) resume(ctx context.Context, v *version.Version) {
	st := v.Status
	if st.Applied == "" {
		return
	}
	c := st.Find(st.Applied)
	if c == nil || c.State != status.RollingOut {
		return
	}
	w.log.Info("resuming rollout", "sha", st.Applied)
	w.rollout(ctx, st.Applied, refsOf(st.Inventory), c.Deployments)
}

// process applies sha unless it was already handled.
func (w *worker) process(ctx context.Context, sha string) error {
	st := w.version.Status
	if c := st.Find(sha); c != nil && (c.State.Terminal() || (c.State == status.RollingOut && st.Applied == sha)) {
		return nil
	}
	now := w.s.opts.Now
	if err := w.mark(ctx, transition{sha: sha, state: status.Fetched, at: now()}); err != nil {
		return err
	}

	objs, err := w.render(sha)
	if err != nil {
		var refusal *render.Error
		if !errors.As(err, &refusal) {
			// Not about the commit (the repo could not be read, the API
			// could not say which kinds are namespaced): tried again.
			return fmt.Errorf("render: %w", err)
		}
		return w.fail(ctx, sha, "render", err)
	}
	if err := w.mark(ctx, transition{sha: sha, state: status.Applying, at: now(), total: len(objs)}); err != nil {
		return err
	}

	start := time.Now()
	res, err := w.s.opts.Applier.Apply(ctx, w.ns, objs, entriesOf(w.version.Status.Inventory))
	w.s.metrics.apply.Observe(time.Since(start).Seconds())
	if err != nil {
		if res != nil {
			// Writing began: what it wrote is live and must stay known, so
			// a later commit prunes what this one created.
			if uerr := w.update(ctx, func(st *version.VersionStatus) []status.Update {
				st.Inventory = partialInventory(st.Inventory, res.Inventory)
				return nil
			}); uerr != nil {
				w.log.Warn("cannot record what a failed apply wrote", "sha", sha, "err", uerr)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if transient(err) {
			return fmt.Errorf("apply: %w", err)
		}
		return w.fail(ctx, sha, "apply", err)
	}
	w.log.Info("commit applied", "sha", sha, "applied", len(res.Applied), "unchanged", len(res.Unchanged), "pruned", len(res.Pruned))

	deployments := deploymentsOf(objs)
	var between []string
	if prev := w.version.Status.Applied; prev != "" && prev != sha {
		between, _ = w.s.opts.Source.Commits(prev, sha) // best effort: only names skipped commits
		if len(between) > version.MaxHistory/2 {
			between = between[len(between)-version.MaxHistory/2:]
		}
	}
	at := now()
	err = w.update(ctx, func(st *version.VersionStatus) []status.Update {
		supersede(st, sha, between, at)
		st.Inventory = inventoryOf(res.Inventory)
		return transition{sha: sha, state: status.RollingOut, at: at, total: len(res.Inventory), deploy: deployments}.mark(st, w.s.opts.Cluster)
	})
	if err != nil {
		return err
	}
	w.s.event(w.version, corev1.EventTypeNormal, "Applied", "applied %s: %d changed, %d unchanged, %d pruned",
		status.ShortSHA(sha), len(res.Applied), len(res.Unchanged), len(res.Pruned))
	w.rollout(ctx, sha, refsOfEntries(res.Inventory), deployments)
	return nil
}

// rollout waits until the applied objects are Ready and records the outcome,
// unless a newer commit interrupts it.
func (w *worker) rollout(ctx context.Context, sha string, refs []apply.ObjectRef, deployments []string) {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w.mu.Lock()
	if w.want != "" && w.want != sha {
		w.mu.Unlock()
		return // a newer commit is already waiting
	}
	w.rolling, w.interrupt = sha, cancel
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.rolling, w.interrupt = "", nil
		w.mu.Unlock()
	}()

	start := time.Now()
	lastReady := -1
	err := w.s.opts.Readiness.Wait(rctx, refs, func(p readiness.Progress) {
		if p.Ready == lastReady {
			return
		}
		lastReady = p.Ready
		_ = w.mark(rctx, transition{sha: sha, state: status.RollingOut, at: w.startedAt(sha), ready: p.Ready, total: p.Total, deploy: deployments})
	})
	switch {
	case errors.Is(context.Cause(rctx), errSuperseded):
		w.log.Info("rollout interrupted by a newer commit", "sha", sha)
		return
	case ctx.Err() != nil:
		return // shutdown or leadership lost; the next leader resumes
	}
	outcome := status.Deployed
	if err != nil {
		outcome = status.Failed
	}
	w.s.metrics.rollout.WithLabelValues(string(outcome)).Observe(time.Since(start).Seconds())
	w.s.metrics.commits.WithLabelValues(w.ns, string(outcome)).Inc()
	if outcome == status.Failed {
		_ = w.mark(ctx, transition{sha: sha, state: status.Failed, reason: errReason(err), at: w.s.opts.Now(), total: len(refs), deploy: deployments})
		w.s.event(w.version, corev1.EventTypeWarning, "Failed", "%s failed: %v", status.ShortSHA(sha), err)
		w.log.Warn("commit failed", "sha", sha, "err", err)
		return
	}
	_ = w.mark(ctx, transition{sha: sha, state: status.Deployed, at: w.s.opts.Now(), ready: len(refs), total: len(refs), deploy: deployments})
	w.s.event(w.version, corev1.EventTypeNormal, "Deployed", "%s deployed in %s", status.ShortSHA(sha), status.FormatDuration(time.Since(start)))
	w.log.Info("commit deployed", "sha", sha, "duration", time.Since(start).String())
}

func (w *worker) startedAt(sha string) time.Time {
	if c := w.version.Status.Find(sha); c != nil && c.AppliedAt != nil {
		return c.AppliedAt.Time
	}
	return w.s.opts.Now()
}

// fail records a commit that could not be applied; the cluster is unchanged.
func (w *worker) fail(ctx context.Context, sha, stage string, err error) error {
	w.s.metrics.commits.WithLabelValues(w.ns, string(status.Failed)).Inc()
	w.log.Warn("commit refused; cluster unchanged", "sha", sha, "stage", stage, "err", err)
	w.s.event(w.version, corev1.EventTypeWarning, "Invalid", "%s not applied: %v", status.ShortSHA(sha), err)
	return w.mark(ctx, transition{sha: sha, state: status.Failed, reason: err.Error(), at: w.s.opts.Now()})
}

func (w *worker) render(sha string) ([]*unstructured.Unstructured, error) {
	tree, err := w.s.opts.Source.Tree(sha)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", status.ShortSHA(sha), err)
	}
	return w.s.opts.Renderer.Render(tree, w.ns)
}

// mark records one transition and the reports it owes.
func (w *worker) mark(ctx context.Context, t transition) error {
	return w.update(ctx, func(st *version.VersionStatus) []status.Update {
		return t.mark(st, w.s.opts.Cluster)
	})
}

// update writes the Version status; the reports a change owes are recorded in
// the same write, so none is lost if the process dies right after.
func (w *worker) update(ctx context.Context, fn func(*version.VersionStatus) []status.Update) error {
	owed := 0
	v, err := w.s.opts.Store.UpdateStatus(ctx, w.ns, func(st *version.VersionStatus) error {
		owed = 0
		for _, u := range fn(st) {
			u.Namespace = w.ns
			if w.s.opts.Outbox != nil {
				w.s.opts.Outbox.Record(st, u)
			}
			owed++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record status of %s: %w", w.ns, err)
	}
	if v == nil {
		return fmt.Errorf("record status of %s: the Version is gone", w.ns)
	}
	w.version = v
	if owed > 0 && w.s.opts.Outbox != nil {
		w.s.opts.Outbox.Kick()
	}
	return nil
}

// noteSource shows git trouble on the Version, and clears it once fixed.
func (w *worker) noteSource(ctx context.Context, err error) {
	var changed bool
	st := w.version.Status.DeepCopy()
	if !setSourceCondition(st, err) {
		return
	}
	if uerr := w.update(ctx, func(st *version.VersionStatus) []status.Update {
		changed = setSourceCondition(st, err)
		return nil
	}); uerr != nil {
		w.log.Warn("cannot record config repo condition", "err", uerr)
	}
	if changed && err != nil {
		w.s.event(w.version, corev1.EventTypeWarning, "SourceUnavailable", "config repo: %v", err)
	}
}

// correctDrift re-applies the objects of the applied commit whose live state
// no longer matches it.
func (w *worker) correctDrift(ctx context.Context) {
	sha := w.version.Status.Applied
	if sha == "" {
		return
	}
	objs, err := w.render(sha)
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

// transient tells API trouble worth a retry from a commit the API refuses.
func transient(err error) bool {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		code := se.Status().Code
		return code == 0 || code == 429 || code >= 500
	}
	return utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) || errors.Is(err, context.DeadlineExceeded)
}

func deploymentsOf(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		if o.GetKind() == "Deployment" && (o.GroupVersionKind().Group == "apps") {
			out = append(out, o.GetName())
		}
	}
	return out
}

func inventoryOf(entries []apply.Entry) []version.InventoryEntry {
	out := make([]version.InventoryEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, version.InventoryEntry{
			Group: e.Group, Version: e.Version, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name, Hash: e.Hash,
		})
	}
	return out
}

// partialInventory is the inventory after an apply that stopped partway:
// live holds prev's entries plus what was written. An entry written or
// created then gets no hash, so the next apply sends it whatever it wants
// it to be: its live state is that of a commit that was never recorded.
func partialInventory(prev []version.InventoryEntry, live []apply.Entry) []version.InventoryEntry {
	key := func(r apply.ObjectRef) apply.ObjectRef { r.Version = ""; return r } // a version change is not a change
	before := make(map[apply.ObjectRef]string, len(prev))
	for _, e := range entriesOf(prev) {
		before[key(e.ObjectRef)] = e.Hash
	}
	out := inventoryOf(live)
	for i, e := range live {
		if h, ok := before[key(e.ObjectRef)]; !ok || h != e.Hash {
			out[i].Hash = ""
		}
	}
	return out
}

func entriesOf(inv []version.InventoryEntry) []apply.Entry {
	out := make([]apply.Entry, 0, len(inv))
	for _, e := range inv {
		out = append(out, apply.Entry{
			ObjectRef: apply.ObjectRef{Group: e.Group, Version: e.Version, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name},
			Hash:      e.Hash,
		})
	}
	return out
}

func refsOf(inv []version.InventoryEntry) []apply.ObjectRef {
	return refsOfEntries(entriesOf(inv))
}

func refsOfEntries(entries []apply.Entry) []apply.ObjectRef {
	out := make([]apply.ObjectRef, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.ObjectRef)
	}
	return out
}
