package syncer

// A commit costs what it changes: what rendering the applied commit read is
// kept, and a head that holds the same inputs is recorded deployed without
// being rendered, applied or waited for.

import (
	"context"
	"fmt"
	"io/fs"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/inputs"
)

// rendered is what a render of sha read.
type rendered struct {
	sha  string
	read *inputs.Set
}

// unchanged records sha deployed at once, in one status write, when the
// namespace is settled on its applied commit and sha holds every input the
// render of that commit read: rendering sha would give the same objects,
// applying them would send nothing and their readiness is judged already.
// Each attempt at the write waits for a place in the records' lane
// (giveWay) and gives it back when answered: a write that fails is tried
// again after a pause, in the lane again. It reports whether it is done
// with sha: recorded, or left for a newer head.
func (w *worker) unchanged(ctx context.Context, sha string, gen uint64) (bool, error) {
	same := w.sameAsApplied()
	if same == nil || !same(sha) {
		return false, nil
	}
	w.sorted(sha)
	pause := firstPause
	var owed []status.Update
	for {
		leave, ok := w.giveWay(ctx, gen)
		if !ok {
			return true, ctx.Err()
		}
		between := w.between(sha)
		at := w.s.opts.Now()
		err := w.update(ctx, func(st *version.VersionStatus) []status.Update {
			owed = lifecycle.Unchanged(st, sha, between, same, w.s.opts.Source.IsAncestor, at, w.s.opts.Cluster)
			return owed
		})
		leave()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		w.log.Warn("cannot record a commit's outcome; retrying", "sha", sha, "err", err)
		// A newer head ends the pause: it is recorded instead.
		pctx, end, ok := w.interruptible(ctx, gen)
		if ok {
			w.backOff(pctx, pause)
		}
		end()
		pause = min(2*pause, w.s.opts.RetryInterval)
	}
	w.noteDropped(owed, sha)
	w.read.sha = sha
	w.s.metrics.commits.WithLabelValues(w.ns, string(status.Deployed)).Inc()
	w.s.metrics.unchanged.Inc()
	w.log.Info("commit deployed: its inputs here are those of the commit before", append([]any{"sha", sha}, w.spans.attrs()...)...)
	return true, nil
}

// sameAsApplied tells the commits that hold every input the render of the
// applied commit read, while the namespace is settled on it; nil when this
// process did not render the applied commit or the namespace is not
// settled (w.settled: a drift correction re-applied objects not judged
// since): then no commit can be told unchanged.
func (w *worker) sameAsApplied() func(sha string) bool {
	st := &w.version.Status
	if w.read == nil || w.read.sha != st.Applied || !w.settled() {
		return nil
	}
	read := w.read.read
	// The head is asked about twice (the step, then the commits between
	// that end with it), and a write that lost a conflict asks again.
	known := map[string]bool{}
	return func(sha string) bool {
		if same, ok := known[sha]; ok {
			return same
		}
		tree, err := w.s.opts.Source.Tree(sha)
		if err != nil {
			return false // an attempt reports it
		}
		same, err := read.Same(tree)
		if err != nil {
			return false
		}
		known[sha] = same
		return same
	}
}

// keyedRenderer and KeyedApplier name a commit's objects across commits
// (render.Renderer, apply.Applier): what was derived from an object that
// did not change (its hash) is not derived again.
type keyedRenderer interface {
	RenderKeyed(ctx context.Context, tree fs.FS, namespace string) ([]*unstructured.Unstructured, []string, error)
}

// KeyedApplier is an Applier that also applies by the objects' keys; an
// Options.Applier that is one is given them.
type KeyedApplier interface {
	Applier
	ApplyKeyed(ctx context.Context, namespace string, objs []*unstructured.Unstructured, keys []string, prev []apply.Entry) (*apply.Result, error)
}

// render renders the namespace's part of sha, with the objects' keys when
// the renderer names them, and says what it read when the tree can name
// its objects.
func (w *worker) render(ctx context.Context, sha string) ([]*unstructured.Unstructured, []string, *inputs.Set, error) {
	tree, err := w.s.opts.Source.Tree(sha)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read commit %s: %w", status.ShortSHA(sha), err)
	}
	rec, err := inputs.Record(tree)
	if err != nil {
		objs, keys, err := w.renderTree(ctx, tree)
		return objs, keys, nil, err
	}
	objs, keys, err := w.renderTree(ctx, rec)
	if err != nil {
		return nil, nil, nil, err
	}
	read, err := rec.Inputs()
	if err != nil {
		w.log.Warn("cannot tell what the render read; the next commit is rendered whatever it changes", "sha", sha, "err", err)
	}
	return objs, keys, read, nil
}

func (w *worker) renderTree(ctx context.Context, tree fs.FS) ([]*unstructured.Unstructured, []string, error) {
	if r, ok := w.s.opts.Renderer.(keyedRenderer); ok {
		return r.RenderKeyed(ctx, tree, w.ns)
	}
	objs, err := w.s.opts.Renderer.RenderContext(ctx, tree, w.ns)
	return objs, nil, err
}

// apply applies objs over the namespace's inventory, by their keys when
// the applier takes them.
func (w *worker) apply(ctx context.Context, objs []*unstructured.Unstructured, keys []string) (*apply.Result, error) {
	prev := entriesOf(w.version.Status.Inventory)
	if a, ok := w.s.opts.Applier.(KeyedApplier); ok && keys != nil {
		return a.ApplyKeyed(ctx, w.ns, objs, keys, prev)
	}
	return w.s.opts.Applier.Apply(ctx, w.ns, objs, prev)
}
