package server

import (
	"context"
	"log/slog"
	"strconv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/clusterwide"
)

// VersionWatcher keeps the managed namespaces' Versions from informers and
// wakes every waiter on each change with one channel close.
type VersionWatcher struct {
	dyn        dynamic.Interface
	grants     *clusterwide.Grants
	namespaces []string
	log        *slog.Logger

	announced func(head string)
	deleted   func(namespace string)

	mu       sync.RWMutex
	versions map[string]*version.Version
	// lastDeleted holds each namespace's Version as last seen before it
	// was deleted, so a leader can create it again as it was.
	lastDeleted map[string]*version.Version
	changed     chan struct{}
	synced      bool
}

// NewVersionWatcher watches the Version of each namespace with dyn,
// cluster-wide where grants (asking as dyn's identity) allow it.
func NewVersionWatcher(dyn dynamic.Interface, grants *clusterwide.Grants, namespaces []string, logger *slog.Logger) *VersionWatcher {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &VersionWatcher{dyn: dyn, grants: grants, namespaces: namespaces, log: logger, versions: map[string]*version.Version{},
		lastDeleted: map[string]*version.Version{}, changed: make(chan struct{})}
}

// OnAnnounced sets fn to be told each head a replica announced on a Version
// (version.HeadAnnotation) that the syncer has not taken up; call before Run.
func (w *VersionWatcher) OnAnnounced(fn func(head string)) { w.announced = fn }

// OnDeleted sets fn to be told when a namespace's Version is deleted; call
// before Run.
func (w *VersionWatcher) OnDeleted(fn func(namespace string)) { w.deleted = fn }

// Run starts the informers and blocks until ctx ends: one for every
// namespace where syncgate may list and watch Versions cluster-wide
// (ClusterRole syncgate-versions), else one per namespace; per namespace
// because the API server did not answer, until it answers yes
// (clusterwide.Run).
func (w *VersionWatcher) Run(ctx context.Context) error {
	return clusterwide.Run(ctx, w.dyn, w.grants, clusterwide.Watch{
		Resource: version.Resource, Namespaces: w.namespaces, Logger: w.log, Transform: w.decode,
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { w.set(o) },
			UpdateFunc: func(_, o any) { w.set(o) },
			DeleteFunc: w.gone,
		},
		Synced: func() {
			w.mu.Lock()
			w.synced = true
			w.mu.Unlock()
			w.notify()
		},
	})
}

func (w *VersionWatcher) gone(o any) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	u, ok := o.(metav1.Object)
	if !ok || u.GetName() != version.Name {
		return // not a namespace's record (decode and set keep only those)
	}
	w.mu.Lock()
	if v := w.versions[u.GetNamespace()]; v != nil {
		w.lastDeleted[u.GetNamespace()] = v
	}
	delete(w.versions, u.GetNamespace())
	w.mu.Unlock()
	w.notify()
	if w.deleted != nil {
		w.deleted(u.GetNamespace())
	}
}

// decode keeps a Version as the gateway reads it, typed and without its
// managedFields: the informer's copy is the one Get returns, not a second
// beside an unstructured one. A Version that does not decode is kept as
// it came, and set leaves it out.
func (w *VersionWatcher) decode(o any) (any, error) {
	u, ok := o.(*unstructured.Unstructured)
	if !ok || u.GetName() != version.Name {
		return o, nil
	}
	v, err := version.FromUnstructured(u)
	if err != nil {
		w.log.Warn("cannot read Version", "namespace", u.GetNamespace(), "err", err)
		return o, nil
	}
	v.ManagedFields = nil
	return v, nil
}

func (w *VersionWatcher) set(o any) {
	v, ok := o.(*version.Version)
	if !ok {
		return
	}
	w.mu.Lock()
	old := w.versions[v.Namespace]
	w.versions[v.Namespace] = v
	w.mu.Unlock()
	w.notify()
	head := v.Annotations[version.HeadAnnotation]
	if w.announced != nil && head != "" && head != v.Status.Head && (old == nil || old.Annotations[version.HeadAnnotation] != head) {
		w.announced(head)
	}
}

// notify wakes everyone waiting on the current channel.
func (w *VersionWatcher) notify() {
	w.mu.Lock()
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
}

// Get returns the namespace's Version, nil when it has none yet.
func (w *VersionWatcher) Get(namespace string) *version.Version {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.versions[namespace]
}

// Remembered returns the newest Version of the namespace this replica saw
// with anything recorded: the one it holds, or the one it saw deleted.
// A Version created again empty does not hide the deleted one, and one
// deleted while the watch was down (not seen deleted yet) is still there.
func (w *VersionWatcher) Remembered(namespace string) *version.Version {
	w.mu.RLock()
	defer w.mu.RUnlock()
	var best *version.Version
	for _, v := range []*version.Version{w.lastDeleted[namespace], w.versions[namespace]} {
		if v == nil || (len(v.Status.History) == 0 && v.Status.Applied == "") {
			continue
		}
		if best == nil || newer(v, best) {
			best = v
		}
	}
	return best
}

// newer compares resource versions as the numbers the API server gives;
// when either is not one, the first seen (the deleted one) is kept.
func newer(a, b *version.Version) bool {
	ra, erra := strconv.ParseUint(a.ResourceVersion, 10, 64)
	rb, errb := strconv.ParseUint(b.ResourceVersion, 10, 64)
	return erra == nil && errb == nil && ra > rb
}

// Changed is closed at the next change.
func (w *VersionWatcher) Changed() <-chan struct{} {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.changed
}

// Synced reports whether the informers have listed once.
func (w *VersionWatcher) Synced() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.synced
}
