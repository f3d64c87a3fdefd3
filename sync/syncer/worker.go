package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/sync/render"
)

// errSuperseded ends a rollout wait when the branch head moves.
var errSuperseded = errors.New("superseded by a newer commit")

// worker carries the branch head into one namespace, one step at a time;
// what the step is, lifecycle.Plan decides from the Version status.
type worker struct {
	s   *Syncer
	ns  string
	log *slog.Logger

	wake chan struct{}

	mu        sync.Mutex
	want      string
	wantErr   error
	gen       uint64 // counts changes of want
	interrupt context.CancelCauseFunc

	// held ends the worker's hold of Options.Gate, nil when none.
	held func()
	// sorting ends the worker's hold of Syncer.changed, nil when none;
	// sortingFor is the head it is held for, stepped the head last taken
	// up by a step.
	sorting             func()
	sortingFor, stepped string
	// stopped is set once the worker ended: it takes no hold after.
	stopped bool

	version *version.Version // last written
	gone    atomic.Bool      // the Version was deleted; create it again

	// read is what rendering the applied commit read (inputs.Set), when
	// this process rendered it: a head that holds the same is recorded
	// deployed without being rendered, applied or waited for.
	read *rendered
	// unjudged is set while objects a drift correction re-applied are not
	// yet recorded so in the Version (worker_drift.go): the namespace is
	// not settled meanwhile.
	unjudged bool
	// restoring is the restore under way (worker_restore.go) and since when
	// this process tries it: trouble is retried for RetryBudget from then.
	restoring      string
	restoringSince time.Time

	spans spans // of the step in progress
}

func newWorker(s *Syncer, ns string) *worker {
	return &worker{s: s, ns: ns, log: s.log.With("namespace", ns), wake: make(chan struct{}, 1)}
}

// offer hands the worker the branch head; a rollout wait in flight ends
// when the head moves, so the new head is taken up at once.
func (w *worker) offer(head string, err error) {
	w.mu.Lock()
	if head != "" && head != w.want {
		w.want = head
		w.gen++
		if w.interrupt != nil {
			w.interrupt(errSuperseded)
		}
	}
	w.wantErr = err
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) run(ctx context.Context) {
	defer w.s.metrics.inFlight(w.ns, nil) // no longer leading
	defer w.stop()
	for {
		v, err := w.s.opts.Store.Ensure(ctx, w.ns, w.s.opts.Spec)
		if err == nil && v != nil {
			w.hold(v)
			// A Version with nothing recorded is new, or was deleted while
			// no leader ran: what syncgate applied is found by its label.
			st := v.Status
			w.gone.Store(st.Applied == "" && len(st.History) == 0 && len(st.Inventory) == 0)
			break
		}
		w.log.Error("cannot create the Version resource", "err", err)
		if !w.s.sleep(ctx, w.s.opts.RetryInterval) {
			return
		}
	}

	var drift <-chan time.Time
	if w.s.opts.DriftInterval > 0 {
		t := time.NewTicker(w.s.opts.DriftInterval)
		defer t.Stop()
		drift = t.C
	}
	retry := time.After(0) // first step: resume whatever the Version says is under way
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-retry:
		case <-drift:
			w.correctDrift(ctx)
			if w.s.opts.Idle != nil {
				w.s.opts.Idle()
			}
			continue
		}
		retry = nil
		w.busy()
		w.mu.Lock()
		want, wantErr, gen := w.want, w.wantErr, w.gen
		w.stepped = want
		w.mu.Unlock()
		err := w.ensureVersion(ctx)
		if err == nil {
			w.noteSource(ctx, wantErr)
			err = w.step(ctx, want, gen)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			w.log.Warn("step not finished; will retry", "sha", want, "err", err)
			retry = time.After(w.s.opts.RetryInterval)
		default:
			// A step that ended because the head moved, or that finished
			// a commit, may leave more to do: plan again until idle.
			step, _ := lifecycle.Plan(&w.version.Status, want)
			if step != lifecycle.Idle && !w.interrupted(gen) {
				retry = time.After(0)
				continue // holding the gate
			}
			if step == lifecycle.Idle && w.s.opts.Idle != nil {
				w.s.opts.Idle()
			}
		}
		if !w.woken() {
			w.idle()
		}
	}
}

func (w *worker) interrupted(gen uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.gen != gen
}

// step does what lifecycle.Plan says the namespace needs next.
func (w *worker) step(ctx context.Context, head string, gen uint64) error {
	if w.unjudged {
		if err := w.recordUnsettled(ctx); err != nil {
			return err
		}
	}
	step, sha := lifecycle.Plan(&w.version.Status, head)
	if step != lifecycle.Idle {
		w.log.Debug("step", "step", step.String(), "sha", sha)
		w.spans = spans{}
	}
	switch step {
	case lifecycle.Idle:
		return nil
	case lifecycle.Await:
		return w.rollout(ctx, sha, gen, nil)
	case lifecycle.Reset:
		return w.reset(ctx, sha)
	case lifecycle.Restore:
		return w.restore(ctx, sha)
	}
	if done, err := w.unchanged(ctx, sha, gen); done || err != nil {
		return err
	}
	if step == lifecycle.Attempt {
		at := w.s.opts.Now()
		var owed []status.Update
		if err := w.update(ctx, func(st *version.VersionStatus) []status.Update {
			owed = lifecycle.Begin(st, sha, w.s.opts.Source.IsAncestor, at, w.s.opts.Cluster)
			return owed
		}); err != nil {
			return err
		}
		w.noteDropped(owed, sha)
	}
	return w.attempt(ctx, sha, gen)
}

// attempt renders, validates and applies sha, then waits for its rollout.
func (w *worker) attempt(ctx context.Context, sha string, gen uint64) error {
	now := w.s.opts.Now
	// Settled before this attempt: the objects it does not change are
	// judged ready already, and only those it writes are waited for.
	settled := w.settled()
	same := w.sameAsApplied()
	began := time.Now()
	objs, keys, read, err := w.render(ctx, sha)
	w.spans.render = time.Since(began)
	if err != nil {
		var refusal *render.Error
		if errors.As(err, &refusal) {
			return w.refuse(ctx, sha, "render", err)
		}
		// Not about the commit (the repo could not be read, the API could
		// not say which kinds are namespaced).
		return w.trouble(ctx, sha, fmt.Errorf("render: %w", err))
	}
	if err := w.mark(ctx, lifecycle.Transition{SHA: sha, State: status.Applying, At: now(), Total: len(objs)}); err != nil {
		return err
	}

	start := time.Now()
	res, pruneErr, retry, err := w.applyWritten(ctx, sha, objs, keys, nil)
	w.spans.apply = time.Since(start)
	w.s.metrics.apply.Observe(w.spans.apply.Seconds())
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return ctx.Err()
	case retry:
		return w.trouble(ctx, sha, fmt.Errorf("apply: %w", err))
	default:
		return w.refuse(ctx, sha, "apply", err)
	}
	w.log.Info("commit applied", "sha", sha, "applied", len(res.Applied), "unchanged", len(res.Unchanged), "pruned", len(res.Pruned))

	// Every object of the commit is written: sha is what runs now, even if
	// some object it dropped could not be deleted.
	inventory, pruneFailure := w.pruneOutcome(res, pruneErr)
	deployments := deploymentsOf(objs)
	between := w.between(sha)
	at := now()
	wait := toWait(res, inventory, settled)
	// What is not waited for is ready now: recorded so, the rollout's
	// first progress has nothing new to write.
	ready := len(refsOf(inventory)) - len(wait)
	var owed []status.Update
	err = w.finish(ctx, func(st *version.VersionStatus) []status.Update {
		deployed, carried := lifecycle.Partition(between, same)
		owed = lifecycle.AsApplied(st, deployed, at, w.s.opts.Cluster)
		owed = append(owed, lifecycle.Supersede(st, sha, carried, w.s.opts.Source.IsAncestor, at, w.s.opts.Cluster)...)
		st.Inventory = inventory
		lifecycle.Restored(st) // sent whole and pruned: nothing left to undo
		owed = append(owed, lifecycle.Transition{SHA: sha, State: status.RollingOut, At: at, Ready: ready, Total: len(res.Inventory), Deployments: deployments}.Apply(st, w.s.opts.Cluster)...)
		if pruneFailure != nil {
			owed = append(owed, lifecycle.Transition{SHA: sha, State: status.Failed, Reason: pruneFailure.Error(), At: at, Total: len(res.Inventory), Deployments: deployments}.Apply(st, w.s.opts.Cluster)...)
		}
		return owed
	})
	if err != nil {
		return err
	}
	w.noteDropped(owed, sha)
	w.read = nil
	if read != nil {
		w.read = &rendered{sha: sha, read: read}
	}
	w.s.event(w.version, corev1.EventTypeNormal, "Applied", "applied %s: %s", status.ShortSHA(sha), res.Summary())
	if pruneFailure != nil {
		w.s.metrics.ended(w.ns, string(status.Failed))
		w.s.event(w.version, corev1.EventTypeWarning, "PruneFailed", "%s", lifecycle.Bound(status.ShortSHA(sha)+": "+pruneFailure.Error(), lifecycle.MaxEventReason))
		w.log.Warn("commit applied but not pruned", "sha", sha, "err", pruneFailure)
		return nil
	}
	return w.rollout(ctx, sha, gen, wait)
}

// between lists the commits after the applied one up to sha, which sha
// carries; best effort, it only names commits that were never seen alone.
func (w *worker) between(sha string) []string {
	prev := w.version.Status.Applied
	if prev == "" || prev == sha {
		return nil
	}
	between, _ := w.s.opts.Source.Commits(prev, sha)
	if len(between) > version.MaxHistory/2 {
		between = between[len(between)-version.MaxHistory/2:]
	}
	return between
}

// rollout waits until the applied commit's objects are Ready and records
// the outcome, unless the branch head moves first. With only set (the
// objects an apply wrote into a settled namespace; it may be empty), the
// others count as ready and only those are waited for; nil waits for every
// object of the inventory.
func (w *worker) rollout(ctx context.Context, sha string, gen uint64, only []readiness.Object) error {
	rctx, end, ok := w.interruptible(ctx, gen)
	defer end()
	if !ok {
		return nil // the head moved since this step began
	}

	refs := refsOf(w.version.Status.Inventory)
	total := len(refs)
	if only != nil {
		refs = only
	}
	judged := total - len(refs) // ready before this rollout began
	var deployments []string
	if c := w.version.Status.Find(sha); c != nil {
		deployments = c.Deployments
	}
	start := time.Now()
	lastReady := -1
	err := w.s.opts.Readiness.Wait(rctx, w.ns, refs, w.healthDeadline(sha), func(p readiness.Progress) {
		if p.Ready < p.Total {
			// Waiting for pods is no work: the gate is free meanwhile,
			// and held again for recording the outcome.
			w.idle()
		}
		if p.Ready == lastReady {
			return
		}
		lastReady = p.Ready
		if p.Ready == p.Total {
			return // the outcome is written next
		}
		if c := w.version.Status.Find(sha); c != nil && c.State == status.RollingOut && int(c.Ready) == judged+p.Ready && int(c.Total) == total {
			return // recorded already
		}
		// Progress only: a lost write is made good by the next one.
		_ = w.mark(rctx, lifecycle.Transition{SHA: sha, State: status.RollingOut, At: w.rolloutSince(sha), Ready: judged + p.Ready, Total: total, Deployments: deployments})
	})
	w.spans.wait = time.Since(start)
	w.busy()
	switch {
	case errors.Is(context.Cause(rctx), errSuperseded):
		w.log.Info("rollout wait ended: the branch head moved", "sha", sha)
		return nil
	case ctx.Err() != nil:
		return ctx.Err() // shutdown or leadership lost; the next leader resumes
	}
	outcome := status.Deployed
	t := lifecycle.Transition{SHA: sha, State: status.Deployed, At: w.s.opts.Now(), Ready: total, Total: total, Deployments: deployments}
	if err != nil {
		outcome = status.Failed
		t.State, t.Reason, t.Ready = status.Failed, err.Error(), judged+max(lastReady, 0)
	}
	if err := w.finish(ctx, func(st *version.VersionStatus) []status.Update {
		if outcome == status.Deployed {
			// A wait over every object not answered ready: the namespace
			// was not settled when objects were re-applied (toWait).
			lifecycle.Judged(st)
		}
		return t.Apply(st, w.s.opts.Cluster)
	}); err != nil {
		return err
	}
	w.s.metrics.rollout.WithLabelValues(string(outcome)).Observe(time.Since(start).Seconds())
	w.s.metrics.ended(w.ns, string(outcome))
	if outcome == status.Failed {
		w.s.event(w.version, corev1.EventTypeWarning, "Failed", "%s failed: %s", status.ShortSHA(sha), lifecycle.Bound(err.Error(), lifecycle.MaxEventReason))
		w.log.Warn("commit failed", append([]any{"sha", sha, "err", err}, w.spans.attrs()...)...)
		return nil
	}
	w.s.event(w.version, corev1.EventTypeNormal, "Deployed", "%s deployed in %s", status.ShortSHA(sha), status.FormatDuration(time.Since(start)))
	w.log.Info("commit deployed", append([]any{"sha", sha, "duration", time.Since(start)}, w.spans.attrs()...)...)
	return nil
}

// trouble handles a failure that is not about the commit: it is retried
// until the attempt is RetryBudget old, then the commit fails with it.
func (w *worker) trouble(ctx context.Context, sha string, err error) error {
	c := w.version.Status.Find(sha)
	if c == nil || c.FetchedAt == nil || w.s.opts.Now().Sub(c.FetchedAt.Time) < w.s.opts.RetryBudget {
		return err
	}
	return w.refuse(ctx, sha, "retry", fmt.Errorf("gave up after %s of transient trouble: %w", status.FormatDuration(w.s.opts.RetryBudget), err))
}

// refuse records a commit that was not applied. The untried commits
// before it take its outcome. If the namespace holds objects written by
// an apply that did not finish (this commit's, or one it carried), the
// applied commit is marked to be applied again (lifecycle.MarkRestore),
// its verdict standing, so the cluster is left as it was. A restore that
// could not be made is so tried once more per refused commit, not in a
// loop.
func (w *worker) refuse(ctx context.Context, sha, stage string, err error) error {
	between, same := w.between(sha), w.sameAsApplied()
	at := w.s.opts.Now()
	restored := ""
	if ferr := w.finish(ctx, func(st *version.VersionStatus) []status.Update {
		deployed, carried := lifecycle.Partition(between, same)
		owed := lifecycle.AsApplied(st, deployed, at, w.s.opts.Cluster)
		lifecycle.Carry(st, sha, carried, at)
		owed = append(owed, lifecycle.Transition{SHA: sha, State: status.Failed, Reason: err.Error(), At: at}.Apply(st, w.s.opts.Cluster)...)
		restored = ""
		if sha != st.Applied && lifecycle.MarkRestore(st) {
			restored = st.Applied
		}
		return owed
	}); ferr != nil {
		return ferr
	}
	w.s.metrics.ended(w.ns, string(status.Failed))
	reason := lifecycle.Bound(err.Error(), lifecycle.MaxEventReason)
	if restored == "" {
		w.log.Warn("commit refused; cluster unchanged", "sha", sha, "stage", stage, "err", err)
		w.s.event(w.version, corev1.EventTypeWarning, "Invalid", "%s not applied: %s", status.ShortSHA(sha), reason)
		return nil
	}
	w.log.Warn("commit refused after it wrote part of its objects; applying the applied commit again", "sha", sha, "stage", stage, "err", err, "applied", restored)
	w.s.event(w.version, corev1.EventTypeWarning, "Invalid", "%s refused part-way, %s applied again: %s", status.ShortSHA(sha), status.ShortSHA(restored), reason)
	return nil
}
