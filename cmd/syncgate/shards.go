package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/sync/lease"
	"github.com/syncgate/syncgate/sync/shard"
)

// sharder leads shards: one leader (a term loop over the Lease
// syncgate-shard-<i>) per shard, each allowed to take its Lease only when
// shard.Decide lets this replica, and told to resign when it says so. A
// round every retry period renews this replica's member slot
// (syncgate-replica-<k>, how replicas count each other), reads the Leases
// and decides.
type sharder struct {
	leases *lease.Client
	id     string
	shards int
	work   func(ctx context.Context, shard int) error
	log    *slog.Logger

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
	leaders := make([]*leader, s.shards)
	for i := range s.shards {
		s.resign[i] = make(chan struct{}, 1)
		log := s.log.With("shard", i)
		// Exclusivity is the Lease's; the plan only says whether this
		// replica may take it. Renewing a shard it leads is never refused.
		e, err := lease.New(lease.Config{Client: s.leases, Name: shard.LeaseName(i), Identity: s.id,
			Duration: s.leaseDuration, RenewDeadline: s.renewDeadline, RetryPeriod: s.retryPeriod,
			May: func() bool { return s.may(i) }, Logger: log})
		if err != nil {
			return err
		}
		leaders[i] = &leader{elector: e, id: s.id, work: func(ctx context.Context) error { return s.work(ctx, i) },
			log: log, retryPeriod: s.retryPeriod, resign: s.resign[i]}
	}
	var wg sync.WaitGroup
	for _, l := range leaders {
		wg.Go(func() { l.run(ctx) })
	}
	s.rounds(ctx)
	wg.Wait()
	return nil
}

// rounds keeps the member slot and the plan until ctx ends, then gives the
// slot up.
func (s *sharder) rounds(ctx context.Context) {
	slot := -1
	defer func() {
		if slot < 0 {
			return
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.retryPeriod)
		defer cancel()
		if l, err := s.leases.Get(rctx, shard.MemberLeaseName(slot)); err == nil && lease.Holder(l) == s.id {
			l.Spec.HolderIdentity = nil
			_, _ = s.leases.Update(rctx, l)
		}
	}()
	first := true
	t := time.NewTicker(s.retryPeriod)
	defer t.Stop()
	for {
		list, err := s.leases.List(ctx)
		if err == nil {
			byName := map[string]*coordinationv1.Lease{}
			for i := range list {
				byName[list[i].Name] = &list[i]
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
		if l := byName[shard.MemberLeaseName(k)]; l != nil && lease.Holder(l) != "" && !expired(l, now) {
			v.Members++
			mine = mine || lease.Holder(l) == s.id
		}
	}
	if !mine {
		v.Members++
	}
	for i := range s.shards {
		if l := byName[shard.LeaseName(i)]; l != nil {
			v.Leases[i] = shard.Lease{Holder: lease.Holder(l), Expired: lease.Holder(l) != "" && expired(l, now)}
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
	stamp := func(l *coordinationv1.Lease) {
		id, secs := s.id, int32(s.leaseDuration/time.Second)
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds = &id, &secs
		l.Spec.RenewTime = &metav1.MicroTime{Time: now}
	}
	if slot >= 0 {
		if l := byName[shard.MemberLeaseName(slot)]; l != nil && lease.Holder(l) == s.id {
			stamp(l)
			if _, err := s.leases.Update(ctx, l); err == nil {
				return slot
			}
		}
	}
	for k := range s.shards {
		l := byName[shard.MemberLeaseName(k)]
		var err error
		switch {
		case l == nil:
			l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: shard.MemberLeaseName(k)}}
			stamp(l)
			_, err = s.leases.Create(ctx, l)
		case lease.Holder(l) == "" || expired(l, now) || lease.Holder(l) == s.id:
			stamp(l)
			_, err = s.leases.Update(ctx, l)
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

// expired reports whether l was not renewed within its duration, by this
// replica's clock; a skewed clock misjudges the balance only, never who
// leads (the elector times that from what it observes).
func expired(l *coordinationv1.Lease, now time.Time) bool {
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return true
	}
	return l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second).Before(now)
}
