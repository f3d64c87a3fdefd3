// Package statuswatch notes when objects' statuses first reported
// something, for benchmarks that time a controller up to its own report:
// an informer on one resource turns each object seen into keys (e.g.
// "<name> <revision>" once Ready at that revision), and the first time each
// key was seen is kept.
package statuswatch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/syncgate/syncgate/sync/clusterwide"
)

// Keys turns an object into the keys it reports now, and a line on its
// state for errors ("" to keep the last).
type Keys func(u *unstructured.Unstructured) (keys []string, state string)

// Watch holds the first time each key was seen.
type Watch struct {
	keys Keys

	mu    sync.Mutex
	at    map[string]time.Time
	state map[string]string // object name → its last state line
	// changed is closed and replaced on every Note: it wakes every waiter.
	changed chan struct{}
}

// New is a Watch fed by Note only, for tests.
func New(keys Keys) *Watch {
	return &Watch{keys: keys, at: map[string]time.Time{}, state: map[string]string{}, changed: make(chan struct{})}
}

// Start follows resource in namespace ("" for all) until ctx ends.
func Start(ctx context.Context, dyn dynamic.Interface, resource schema.GroupVersionResource, namespace string, keys Keys) (*Watch, error) {
	w := New(keys)
	inf := clusterwide.NewInformer(dyn, resource, namespace, "", cache.Indexers{})
	note := func(obj any) {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			w.Note(u, time.Now())
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    note,
		UpdateFunc: func(_, obj any) { note(obj) },
	}); err != nil {
		return nil, err
	}
	go inf.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil, fmt.Errorf("watch %s: %w", resource.Resource, ctx.Err())
	}
	return w, nil
}

// Note records u as seen at now.
func (w *Watch) Note(u *unstructured.Unstructured, now time.Time) {
	keys, state := w.keys(u)
	w.mu.Lock()
	defer w.mu.Unlock()
	if state != "" {
		w.state[u.GetNamespace()+"/"+u.GetName()] = state
	}
	for _, k := range keys {
		if _, ok := w.at[k]; !ok {
			w.at[k] = now
		}
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

// AwaitEach is Await of revision in each of names, key naming the pair as
// the Keys of the Watch do (DeployedKey, flux.ReadyKey).
func (w *Watch) AwaitEach(ctx context.Context, timeout time.Duration, key func(name, revision string) string, revision string, names ...string) (time.Time, error) {
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = key(n, revision)
	}
	return w.Await(ctx, timeout, keys...)
}

// Await waits until every key was seen and returns when the last of them
// first was.
func (w *Watch) Await(ctx context.Context, timeout time.Duration, keys ...string) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		var last time.Time
		var missing []string
		w.mu.Lock()
		changed := w.changed
		for _, k := range keys {
			if t, ok := w.at[k]; !ok {
				missing = append(missing, k)
			} else if t.After(last) {
				last = t
			}
		}
		w.mu.Unlock()
		if len(missing) == 0 {
			return last, nil
		}
		select {
		case <-changed:
		case <-deadline:
			return time.Time{}, fmt.Errorf("not seen after %s: %s", timeout, w.describe(missing))
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

func (w *Watch) describe(missing []string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var states []string
	for _, s := range w.state {
		states = append(states, s)
		if len(states) == 3 {
			break
		}
	}
	if len(missing) > 3 {
		missing = append(missing[:3], fmt.Sprintf("and %d more", len(missing)-3))
	}
	return strings.Join(missing, ", ") + "; last states: " + strings.Join(states, "; ")
}
