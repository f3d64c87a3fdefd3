package previewreport

import (
	"context"
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status/version"
)

// A burst of webhooks is a burst of ledger changes. Each used to be its
// own read and write of the ConfigMap, one at a time, so the twentieth
// webhook of a burst was answered after twenty round trips, all of them
// beside the sync the burst came with. Now a change that comes while a
// write is under way waits for the next write, which takes every change
// waiting (group commit): a burst costs about two writes, and each caller
// is answered once the write holding its change is done.

// change is one caller's change to the book, and its outcome.
type change struct {
	ctx  context.Context
	fn   func(*book)
	done chan error
}

// writeTimeout bounds one write of a group, whose callers may be gone.
const writeTimeout = 30 * time.Second

// modify changes the ledger by fn and returns once the change is written,
// or not; fn may run more than once (conflicts are read again and
// retried, conflictBackoff) and must only change the book.
func (l *Ledger) modify(ctx context.Context, fn func(*book)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &change{ctx: ctx, fn: fn, done: make(chan error, 1)}
	l.queue.Lock()
	l.writes = append(l.writes, c)
	lead := !l.writing
	l.writing = true
	l.queue.Unlock()
	if lead {
		// The write outlives a caller that gives up: the others wait on it.
		go l.flush(context.WithoutCancel(ctx))
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush writes the changes waiting, as groups, until none is left.
func (l *Ledger) flush(ctx context.Context) {
	for {
		l.queue.Lock()
		group := l.writes
		l.writes = nil
		if len(group) == 0 {
			l.writing = false
			l.queue.Unlock()
			return
		}
		l.queue.Unlock()
		live := group[:0]
		for _, c := range group {
			if err := c.ctx.Err(); err != nil {
				c.done <- err // given up before it was written: not written
				continue
			}
			live = append(live, c)
		}
		if len(live) == 0 {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err := l.write(wctx, live)
		cancel()
		for _, c := range live {
			c.done <- err
		}
	}
}

// write reads, changes by every change of group in order, and writes the
// ledger, again on conflicts.
func (l *Ledger) write(ctx context.Context, group []*change) error {
	return version.OnConflict(conflictBackoff, func() error {
		b, cm, err := l.read(ctx)
		if err != nil {
			return err
		}
		for _, c := range group {
			c.fn(b)
		}
		b.tidy()
		raw, err := json.Marshal(b)
		if err != nil {
			return err
		}
		if cm == nil {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: l.name, Namespace: l.namespace,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "syncgate"}}}
			cm.Data = map[string]string{dataKey: string(raw)}
			_, err = l.client.Create(ctx, cm, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				return apierrors.NewConflict(corev1.Resource("configmaps"), l.name, err)
			}
		} else {
			cm.Data = map[string]string{dataKey: string(raw)}
			_, err = l.client.Update(ctx, cm, metav1.UpdateOptions{})
		}
		if err == nil {
			l.mu.Lock()
			l.heads = b.Heads
			l.mu.Unlock()
		}
		return err
	})
}
