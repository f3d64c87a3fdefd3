package syncer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/priority"
	"github.com/syncgate/syncgate/sync/readiness"
)

// Source is the followed config repo. IsAncestor tells whether commit a
// is commit b or one of its ancestors: a commit pushed over is carried by
// the new head only if the head holds it (lifecycle.IsAncestor).
type Source interface {
	Sync(ctx context.Context) (string, error)
	Tree(sha string) (fs.FS, error)
	Commits(since, until string) ([]string, error)
	IsAncestor(a, b string) (bool, error)
}

// Renderer turns one namespace's part of a commit into objects.
type Renderer interface {
	RenderContext(ctx context.Context, tree fs.FS, namespace string) ([]*unstructured.Unstructured, error)
}

// Applier writes objects to the cluster.
type Applier interface {
	Apply(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error)
	Drift(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error)
	// Owned finds the objects syncgate applied in namespace by their label.
	Owned(ctx context.Context, namespace string) ([]apply.Entry, error)
}

// Readiness waits until applied objects are Current, reading them as the
// namespace they were applied for.
type Readiness interface {
	// Wait ends at deadline with an error wrapping readiness.ErrTimeout
	// at the latest; a deadline already past judges the objects once.
	Wait(ctx context.Context, namespace string, refs []readiness.Object, deadline time.Time, progress func(readiness.Progress)) error
}

// Store reads and writes Version resources.
type Store interface {
	Ensure(ctx context.Context, namespace string, spec version.VersionSpec) (*version.Version, error)
	UpdateStatus(ctx context.Context, namespace string, fn func(*version.VersionStatus) error) (*version.Version, error)
}

// Outbox records reports owed to CI inside a status update and delivers them.
type Outbox interface {
	Record(st *version.VersionStatus, u status.Update)
	Kick()
}

// Options configure a Syncer.
type Options struct {
	Cluster    string
	Namespaces []string
	Spec       version.VersionSpec

	Source    Source
	Renderer  Renderer
	Applier   Applier
	Readiness Readiness
	Store     Store
	Outbox    Outbox
	Events    record.EventRecorder

	// PollInterval is how often the remote is asked for its head.
	PollInterval time.Duration
	// DriftInterval is how often live objects are compared with the applied
	// commit; 0 turns drift correction off.
	DriftInterval time.Duration
	// RetryInterval spaces retries of applies that failed for transient reasons.
	RetryInterval time.Duration
	// Announce, when set, is told each new head a fetch found while this
	// replica does not run every namespace (not leading, or leading some
	// shards only), so that the replicas that run the others learn of it;
	// Leads says which ones run here.
	Announce func(head string)
	// Remembered, when set, returns the namespace's Version as last seen
	// (by an informer) before it was deleted: a leader that did not write
	// it itself creates it again from that.
	Remembered func(namespace string) *version.Version
	// RetryBudget bounds how long an attempt at a commit retries transient
	// trouble before the commit fails with the last error (default 5m; the
	// health timeout is a good value).
	RetryBudget time.Duration
	// HealthTimeout is how long the rollout of an applied commit may take
	// (default 5m), measured from when it was applied (healthDeadline).
	HealthTimeout time.Duration
	// Gate, when set, is held while a fetch runs and while a namespace
	// renders, applies and records a commit (not during the rollout
	// wait, nor in the pauses between failed status writes): work that
	// gives way to syncs waits at it.
	Gate *priority.Gate
	// Idle, when set, is told each time a namespace has nothing more to
	// do after a step (its commit recorded, no newer head waiting).
	Idle func()

	Logger  *slog.Logger
	Metrics prometheus.Registerer
	Now     func() time.Time
}

// Syncer polls the config repo on every replica and, on the leader, carries
// each new head into every managed namespace.
type Syncer struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics

	nudge chan struct{}

	mu      sync.Mutex
	head    string
	headErr error
	heads   chan struct{}      // closed when head or headErr changes, then replaced
	fetched chan struct{}      // closed when a fetch ends, then replaced
	workers map[string]*worker // by namespace, while a Run carries heads into it
	polled  atomic.Bool

	// changed is held by each worker from a new head until it knows the
	// head leaves its inputs unchanged, and by a worker whose inputs
	// changed until its commit is applied and recorded: while it is, a
	// namespace with nothing to apply records the head only when no other
	// such record is in flight (records; worker_defer.go).
	changed *priority.Gate
	records *lane
}

// New checks the options and builds a Syncer.
func New(opts Options) (*Syncer, error) {
	switch {
	case opts.Cluster == "":
		return nil, errors.New("syncer: cluster name is required")
	case len(opts.Namespaces) == 0:
		return nil, errors.New("syncer: at least one namespace is required")
	case opts.Source == nil:
		return nil, errors.New("syncer: source is required")
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Minute
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = 10 * time.Second
	}
	if opts.RetryBudget <= 0 {
		opts.RetryBudget = 5 * time.Minute
	}
	if opts.HealthTimeout <= 0 {
		opts.HealthTimeout = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Events == nil {
		opts.Events = &record.FakeRecorder{}
	}
	m, err := newMetrics(opts.Metrics)
	if err != nil {
		return nil, err
	}
	changed := priority.New()
	return &Syncer{
		opts:    opts,
		log:     opts.Logger,
		metrics: m,
		nudge:   make(chan struct{}, 1),
		heads:   make(chan struct{}),
		fetched: make(chan struct{}),
		workers: map[string]*worker{},
		changed: changed,
		records: newLane(recordWidth, changed),
	}, nil
}

// Nudge asks for a fetch now, e.g. after a push webhook. The sha is only
// logged: the branch head decides what is applied.
func (s *Syncer) Nudge(sha string) {
	s.log.Info("fetch requested", "sha", sha)
	select {
	case s.nudge <- struct{}{}:
	default:
	}
}

// Polled reports whether the repo was fetched at least once.
func (s *Syncer) Polled() bool { return s.polled.Load() }

// Poll fetches the repo every interval and on every Nudge until ctx ends.
// Every replica runs it, so each can answer ancestry questions.
func (s *Syncer) Poll(ctx context.Context) error {
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	for {
		_, _ = s.Fetch(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.nudge:
		}
	}
}

// Fetch fetches the repo now and hands a new head to the workers at once:
// every fetch (a poll, a webhook, /wait asking about a sha it does not
// know) goes through here, so no head found is left for the next poll.
func (s *Syncer) Fetch(ctx context.Context) (string, error) {
	defer s.opts.Gate.Begin()()
	start := time.Now()
	head, err := s.opts.Source.Sync(ctx)
	defer s.fetchEnded()
	s.metrics.fetch.Observe(time.Since(start).Seconds())
	if err == nil {
		s.metrics.fetched.SetToCurrentTime()
	}
	if ctx.Err() != nil {
		return head, err
	}
	s.noteHead(head, err)
	return head, err
}

// Fetched is closed when the next fetch ends, whoever asked for it: the
// poll, a push webhook's nudge, or the gateway for a sha it does not know.
func (s *Syncer) Fetched() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetched
}

func (s *Syncer) fetchEnded() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.fetched)
	s.fetched = make(chan struct{})
}

func (s *Syncer) noteHead(head string, err error) {
	s.mu.Lock()
	changed := head != s.head || !errors.Is(err, s.headErr) || (err == nil) != (s.headErr == nil)
	if err == nil {
		s.head = head
	}
	s.headErr = err
	if changed && err == nil {
		// The workers hold the gate from here, while the fetch still
		// does, until they have taken the head up.
		for _, w := range s.workers {
			w.busy()
			w.unsorted(head)
		}
	}
	all := len(s.workers) == len(s.opts.Namespaces)
	if changed {
		close(s.heads)
		s.heads = make(chan struct{})
	}
	s.mu.Unlock()
	if err != nil {
		s.log.Warn("config repo fetch failed; cluster kept as it is", "err", err)
	} else {
		s.polled.Store(true)
		if changed && s.opts.Announce != nil && !all {
			s.opts.Announce(head)
		}
	}
}

// Leads reports whether a Run on this replica carries heads into namespace.
func (s *Syncer) Leads(namespace string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.workers[namespace] != nil
}

// sleep waits d, or less when ctx ends; it reports whether ctx is live.
func (s *Syncer) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// current is the head and the fetch's error, and a channel closed when
// either changes next.
func (s *Syncer) current() (string, <-chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.head, s.heads, s.headErr
}

// Run is the leader's loop: one worker per namespace, fed with every new head.
// It returns when ctx ends (leadership lost or shutdown).
func (s *Syncer) Run(ctx context.Context) error {
	return s.RunNamespaces(ctx, s.opts.Namespaces)
}

// RunNamespaces is Run for some of the namespaces only: a shard's. Runs of
// disjoint sets go on side by side, each until its ctx ends.
func (s *Syncer) RunNamespaces(ctx context.Context, namespaces []string) error {
	workers := make([]*worker, 0, len(namespaces))
	var wg sync.WaitGroup
	s.mu.Lock()
	for _, ns := range namespaces {
		if s.workers[ns] != nil {
			s.mu.Unlock()
			return fmt.Errorf("syncer: namespace %s already runs", ns)
		}
	}
	for _, ns := range namespaces {
		w := newWorker(s, ns)
		workers = append(workers, w)
		s.workers[ns] = w
	}
	s.mu.Unlock()
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx)
		}()
	}
	defer func() {
		// Forgotten before waiting: a fetch meanwhile hands no head to a
		// worker that is stopping (worker.stop).
		s.mu.Lock()
		for _, w := range workers {
			delete(s.workers, w.ns)
		}
		s.mu.Unlock()
		wg.Wait()
	}()
	for {
		head, changed, err := s.current()
		for _, w := range workers {
			w.offer(head, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// VersionDeleted tells the namespace's worker, when this replica leads,
// that its Version was deleted: it is created again at once, with the
// status the worker last wrote.
func (s *Syncer) VersionDeleted(namespace string) {
	s.mu.Lock()
	w := s.workers[namespace]
	s.mu.Unlock()
	if w == nil {
		return
	}
	w.gone.Store(true)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// event records a Kubernetes Event on the namespace's Version.
func (s *Syncer) event(v *version.Version, typ, reason, format string, args ...any) {
	if v == nil {
		return
	}
	ref := &corev1.ObjectReference{
		APIVersion: version.GroupVersion.String(), Kind: version.Kind.Kind,
		Namespace: v.Namespace, Name: v.Name, UID: v.UID, ResourceVersion: v.ResourceVersion,
	}
	s.opts.Events.Eventf(runtime.Object(ref), typ, reason, format, args...)
}
