package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	"github.com/syncgate/syncgate/sync/shard"
)

// sharder leads shards: one leader (a term loop over the Lease
// syncgate-shard-<i>) per shard, each allowed to take its Lease only when
// shard.Decide lets this replica, and told to resign when it says so. A
// round every retry period renews this replica's member slot
// (syncgate-replica-<k>, how replicas count each other), reads the Leases
// and decides.
type sharder struct {
	kube      kubernetes.Interface
	namespace string // of the Leases
	id        string
	shards    int
	work      func(ctx context.Context, shard int) error
	log       *slog.Logger

	leaseDuration, renewDeadline, retryPeriod time.Duration

	mu     sync.Mutex
	plan   shard.Plan
	resign []chan struct{}
}

func (s *sharder) may(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.plan.May(i)
}

// run leads shards until ctx ends.
func (s *sharder) run(ctx context.Context) error {
	s.plan = shard.Plan{Release: -1}
	s.resign = make([]chan struct{}, s.shards)
	var wg sync.WaitGroup
	errs := make(chan error, s.shards)
	for i := range s.shards {
		s.resign[i] = make(chan struct{}, 1)
		log := s.log.With("shard", i)
		l := &leader{
			lock: &gatedLock{Interface: &resourcelock.LeaseLock{
				LeaseMeta:  metav1ObjectMeta(shard.LeaseName(i), s.namespace),
				Client:     s.kube.CoordinationV1(),
				LockConfig: resourcelock.ResourceLockConfig{Identity: s.id},
			}, may: func() bool { return s.may(i) }},
			work:          func(ctx context.Context) error { return s.work(ctx, i) },
			log:           log,
			leaseDuration: s.leaseDuration, renewDeadline: s.renewDeadline, retryPeriod: s.retryPeriod,
			resign: s.resign[i],
		}
		// Refused acquisitions are this replica keeping to its share, not
		// trouble: client-go logs them at error level unless told apart.
		lctx := klog.NewContext(ctx, logr.FromSlogHandler(heldBackFilter{log.With("component", "client-go").Handler()}))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.run(lctx); err != nil {
				errs <- err
			}
		}()
	}
	s.rounds(ctx)
	wg.Wait()
	close(errs)
	return <-errs
}

// rounds keeps the member slot and the plan until ctx ends, then gives the
// slot up.
func (s *sharder) rounds(ctx context.Context) {
	leases := s.kube.CoordinationV1().Leases(s.namespace)
	slot := -1
	defer func() {
		if slot < 0 {
			return
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.retryPeriod)
		defer cancel()
		if l, err := leases.Get(rctx, shard.MemberLeaseName(slot), metav1.GetOptions{}); err == nil && holder(l) == s.id {
			l.Spec.HolderIdentity = nil
			_, _ = leases.Update(rctx, l, metav1.UpdateOptions{})
		}
	}()
	first := true
	t := time.NewTicker(s.retryPeriod)
	defer t.Stop()
	for {
		list, err := leases.List(ctx, metav1.ListOptions{})
		if err == nil {
			byName := map[string]*coordinationv1.Lease{}
			for i := range list.Items {
				byName[list.Items[i].Name] = &list.Items[i]
			}
			now := time.Now()
			slot = s.keepSlot(ctx, byName, slot, now)
			// The first round only announces this replica: the others
			// started with it are counted before anything is taken.
			if !first {
				s.decide(byName, now)
			}
			first = false
		} else if ctx.Err() == nil {
			s.log.Warn("cannot read the shard Leases", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *sharder) decide(byName map[string]*coordinationv1.Lease, now time.Time) {
	v := shard.View{Self: s.id, Leases: make([]shard.Lease, s.shards)}
	mine := false
	for k := range s.shards {
		if l := byName[shard.MemberLeaseName(k)]; l != nil && holder(l) != "" && !expired(l, now) {
			v.Members++
			mine = mine || holder(l) == s.id
		}
	}
	if !mine {
		v.Members++
	}
	for i := range s.shards {
		if l := byName[shard.LeaseName(i)]; l != nil {
			v.Leases[i] = shard.Lease{Holder: holder(l), Expired: holder(l) != "" && expired(l, now)}
			if l.Spec.AcquireTime != nil {
				v.Leases[i].Acquired = l.Spec.AcquireTime.Time
			}
		}
	}
	p := shard.Decide(v)
	s.mu.Lock()
	s.plan = p
	s.mu.Unlock()
	if p.Release >= 0 {
		select {
		case s.resign[p.Release] <- struct{}{}:
		default:
		}
	}
}

// keepSlot renews this replica's member slot, or takes a free or expired
// one; it returns the slot held, or -1. With more replicas than shards the
// extra ones hold none, and count themselves.
func (s *sharder) keepSlot(ctx context.Context, byName map[string]*coordinationv1.Lease, slot int, now time.Time) int {
	leases := s.kube.CoordinationV1().Leases(s.namespace)
	stamp := func(l *coordinationv1.Lease) {
		id, secs := s.id, int32(s.leaseDuration/time.Second)
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds = &id, &secs
		l.Spec.RenewTime = &metav1.MicroTime{Time: now}
	}
	if slot >= 0 {
		if l := byName[shard.MemberLeaseName(slot)]; l != nil && holder(l) == s.id {
			stamp(l)
			if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err == nil {
				return slot
			}
		}
	}
	for k := range s.shards {
		l := byName[shard.MemberLeaseName(k)]
		var err error
		switch {
		case l == nil:
			l = &coordinationv1.Lease{ObjectMeta: metav1ObjectMeta(shard.MemberLeaseName(k), s.namespace)}
			stamp(l)
			_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		case holder(l) == "" || expired(l, now) || holder(l) == s.id:
			stamp(l)
			_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
		default:
			continue
		}
		if err == nil {
			return k
		}
		if !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) && ctx.Err() == nil {
			s.log.Warn("cannot take a replica slot", "lease", shard.MemberLeaseName(k), "err", err)
		}
	}
	return -1
}

func holder(l *coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// expired reports whether l was not renewed within its duration, by this
// replica's clock; a skewed clock misjudges the balance only, never who
// leads (client-go times that from what it observes).
func expired(l *coordinationv1.Lease, now time.Time) bool {
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return true
	}
	return l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second).Before(now)
}

// errHeldBack refuses to take a shard's Lease that shard.Decide does not
// let this replica take.
var errHeldBack = errors.New("shard left to a replica with fewer shards")

// gatedLock is a shard's Lease that this replica takes only when may says
// so; renewing a Lease it holds is never refused.
type gatedLock struct {
	resourcelock.Interface
	may func() bool

	mu      sync.Mutex
	holding bool
}

func (g *gatedLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	r, raw, err := g.Interface.Get(ctx)
	if err == nil {
		g.set(r.HolderIdentity == g.Identity())
	}
	return r, raw, err
}

func (g *gatedLock) Create(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	if !g.may() {
		return errHeldBack
	}
	err := g.Interface.Create(ctx, r)
	if err == nil {
		g.set(true)
	}
	return err
}

func (g *gatedLock) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	g.mu.Lock()
	holding := g.holding
	g.mu.Unlock()
	if r.HolderIdentity != "" && !holding && !g.may() {
		return errHeldBack
	}
	err := g.Interface.Update(ctx, r)
	if err == nil {
		g.set(r.HolderIdentity == g.Identity())
	}
	return err
}

func (g *gatedLock) set(holding bool) {
	g.mu.Lock()
	g.holding = holding
	g.mu.Unlock()
}

// heldBackFilter drops client-go's error logs of refused acquisitions.
type heldBackFilter struct{ slog.Handler }

func (h heldBackFilter) Handle(ctx context.Context, r slog.Record) error {
	held := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && errors.Is(err, errHeldBack) {
			held = true
		}
		return !held
	})
	if held {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h heldBackFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return heldBackFilter{h.Handler.WithAttrs(as)}
}

func (h heldBackFilter) WithGroup(name string) slog.Handler {
	return heldBackFilter{h.Handler.WithGroup(name)}
}
