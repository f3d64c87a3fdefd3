package lease

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Config is what an Elector contends with.
type Config struct {
	Client   *Client
	Name     string // of the Lease
	Identity string // of this candidate, written as the Lease's holder

	// Duration is how long a Lease not renewed stays its holder's, as the
	// others time it; RenewDeadline how long a leader keeps leading without
	// renewing it (shorter, so that its work has stopped before another
	// candidate may take over); RetryPeriod how often candidates try and
	// the leader renews.
	Duration, RenewDeadline, RetryPeriod time.Duration

	// May, when set, is asked before taking the Lease from nobody or from a
	// holder whose term lapsed; renewing it is never refused.
	May func() bool

	Logger *slog.Logger
}

// jitter spreads the candidates' tries over up to 1.2 retry periods more,
// as client-go's JitterFactor.
const jitter = 1.2

// Elector contends for one Lease, one term per Run. It is not safe for
// concurrent Runs.
type Elector struct {
	cfg Config
	log *slog.Logger

	seen    *coordinationv1.Lease // as last read or written
	seenAt  time.Time             // when seen's resourceVersion last changed, by this clock
	renewed time.Time             // when the last write that holds the Lease was begun
	told    string                // the last holder logged
}

// New checks cfg as client-go checks a leader election's configuration.
func New(cfg Config) (*Elector, error) {
	switch {
	case cfg.Client == nil || cfg.Name == "" || cfg.Identity == "":
		return nil, errors.New("lease: a client, a Lease name and an identity are needed")
	case cfg.Duration < time.Second:
		return nil, errors.New("lease: the duration must be at least a second")
	case cfg.Duration%time.Second != 0:
		return nil, errors.New("lease: the duration must be whole seconds, as the Lease holds it")
	case cfg.Duration <= cfg.RenewDeadline:
		return nil, errors.New("lease: the duration must be longer than the renew deadline")
	case cfg.RetryPeriod <= 0 || cfg.RenewDeadline <= time.Duration(jitter*float64(cfg.RetryPeriod)):
		return nil, errors.New("lease: the renew deadline must be longer than 1.2 retry periods")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Elector{cfg: cfg, log: log.With("lease", cfg.Name)}, nil
}

// Run contends for the Lease until this candidate holds it or ctx ends,
// then runs lead with a context that ends when ctx does or leadership is
// lost. It renews the Lease until lead returns, after ctx ended too (work
// that is stopping still leads), then gives the Lease up unless another
// holder was seen. It returns whether it led.
func (e *Elector) Run(ctx context.Context, lead func(context.Context)) bool {
	if !e.acquire(ctx) {
		return false
	}
	e.told = e.cfg.Identity
	base := context.WithoutCancel(ctx)
	wctx, stop := context.WithCancel(base)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(wctx)
	}()
	if e.hold(ctx, stop, done) {
		e.release(base)
	}
	return true
}

func (e *Elector) acquire(ctx context.Context) bool {
	for ctx.Err() == nil {
		if e.tryAcquire(ctx) {
			return true
		}
		p := float64(e.cfg.RetryPeriod)
		t := time.NewTimer(time.Duration(p + rand.Float64()*jitter*p))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return false
}

// tryAcquire takes or renews the Lease once, if it is free, lapsed or this
// candidate's.
func (e *Elector) tryAcquire(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.RenewDeadline)
	defer cancel()
	now := time.Now()
	cur, err := e.cfg.Client.Get(ctx, e.cfg.Name)
	read := time.Now()
	if apierrors.IsNotFound(err) {
		if !e.may() {
			return false
		}
		l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: e.cfg.Name}}
		e.stamp(l, now, true)
		got, err := e.cfg.Client.Create(ctx, l)
		return e.wrote(now, got, err)
	}
	if err != nil {
		e.trouble(ctx, "cannot read the Lease", err)
		return false
	}
	// The Lease may have changed until the read returned: its term is timed
	// from then, or a read that waited long in the API server's queue would
	// lapse a Lease its holder still renews.
	e.observe(cur, read)
	h := Holder(cur)
	if h != e.cfg.Identity {
		if h != "" && !e.lapsed(now) {
			e.tell(h)
			return false
		}
		if !e.may() {
			return false
		}
	}
	l := cur.DeepCopy()
	e.stamp(l, now, h != e.cfg.Identity)
	got, err := e.cfg.Client.Update(ctx, l)
	return e.wrote(now, got, err)
}

// wrote records a write, begun at, that makes this candidate the holder.
func (e *Elector) wrote(at time.Time, l *coordinationv1.Lease, err error) bool {
	if err != nil {
		if !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) {
			e.log.Warn("cannot write the Lease", "err", err)
		}
		return false
	}
	e.observe(l, at)
	e.renewed = at
	return true
}

// hold renews the Lease every retry period until the work is done. When
// ctx ends it stops the work and renews on until the work has returned;
// when the Lease cannot be renewed within the renew deadline, or shows
// another holder, leadership is lost: the work is stopped and waited for,
// unrenewed. It returns false once another holder was seen.
func (e *Elector) hold(ctx context.Context, stop context.CancelFunc, done <-chan struct{}) bool {
	// The work is told to stop as soon as ctx ends, even while a renewal
	// hangs.
	defer context.AfterFunc(ctx, stop)()
	tick := time.NewTicker(e.cfg.RetryPeriod)
	defer tick.Stop()
	deadline := time.NewTimer(time.Until(e.renewed.Add(e.cfg.RenewDeadline)))
	defer deadline.Stop()
	for {
		select {
		case <-done:
			return true
		case <-deadline.C:
			e.log.Warn("leadership lost: the Lease was not renewed within the renew deadline", "renew_deadline", e.cfg.RenewDeadline)
			return e.lose(stop, done, true)
		case <-tick.C:
		}
		switch e.renew(context.WithoutCancel(ctx)) {
		case renewed:
			deadline.Reset(time.Until(e.renewed.Add(e.cfg.RenewDeadline)))
		case taken:
			e.log.Warn("leadership lost: the Lease has another holder or was deleted", "holder", Holder(e.seen))
			return e.lose(stop, done, false)
		}
	}
}

func (e *Elector) lose(stop context.CancelFunc, done <-chan struct{}, mine bool) bool {
	stop()
	<-done
	return mine
}

type renewal int

const (
	renewed renewal = iota
	failed          // tried again next period, until the deadline
	taken
)

func (e *Elector) renew(ctx context.Context) renewal {
	now := time.Now()
	ctx, cancel := context.WithDeadline(ctx, e.renewed.Add(e.cfg.RenewDeadline))
	defer cancel()
	l := e.seen.DeepCopy()
	e.stamp(l, now, false)
	got, err := e.cfg.Client.Update(ctx, l)
	if err == nil {
		e.observe(got, now)
		e.renewed = now
		return renewed
	}
	// The Lease changed under this leader, or the write did not get
	// through: what does it say now? Deleted, it is another's as soon as
	// a candidate creates it.
	if apierrors.IsNotFound(err) {
		return taken
	}
	cur, gerr := e.cfg.Client.Get(ctx, e.cfg.Name)
	if apierrors.IsNotFound(gerr) {
		return taken
	}
	if gerr == nil {
		e.observe(cur, time.Now())
		if Holder(cur) != e.cfg.Identity {
			return taken
		}
	}
	e.trouble(ctx, "cannot renew the Lease", err)
	return failed
}

// release gives the Lease up, if it is still as this holder wrote it, so
// that a candidate takes it at once rather than after its duration.
func (e *Elector) release(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.RenewDeadline)
	defer cancel()
	l := e.seen.DeepCopy()
	none, one, now := "", int32(1), metav1.NowMicro()
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds = &none, &one
	l.Spec.RenewTime, l.Spec.AcquireTime = &now, &now
	got, err := e.cfg.Client.Update(ctx, l)
	if err != nil {
		if !apierrors.IsConflict(err) {
			e.log.Warn("cannot give the Lease up; it lapses after its duration", "err", err)
		}
		return
	}
	e.observe(got, time.Now())
}

// stamp makes l this candidate's, renewed now; taking it from nobody or
// another holder counts a transition.
func (e *Elector) stamp(l *coordinationv1.Lease, now time.Time, taking bool) {
	id, secs := e.cfg.Identity, int32(e.cfg.Duration/time.Second)
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds = &id, &secs
	l.Spec.RenewTime = &metav1.MicroTime{Time: now}
	if taking || l.Spec.AcquireTime == nil {
		l.Spec.AcquireTime = &metav1.MicroTime{Time: now}
	}
	if taking {
		n := int32(0) // a Lease created
		if l.ResourceVersion != "" {
			n = 1
			if t := l.Spec.LeaseTransitions; t != nil {
				n = *t + 1
			}
		}
		l.Spec.LeaseTransitions = &n
	}
}

// observe remembers l; its term is timed from when its resourceVersion
// changed as this candidate saw it, never from the times it holds, which
// another clock wrote.
func (e *Elector) observe(l *coordinationv1.Lease, now time.Time) {
	if e.seen == nil || l.ResourceVersion != e.seen.ResourceVersion {
		e.seenAt = now
	}
	e.seen = l
}

// lapsed reports whether the Lease last seen went unrenewed for its
// duration.
func (e *Elector) lapsed(now time.Time) bool {
	d := time.Duration(0)
	if s := e.seen.Spec.LeaseDurationSeconds; s != nil {
		d = time.Duration(*s) * time.Second
	}
	return !e.seenAt.Add(d).After(now)
}

func (e *Elector) may() bool { return e.cfg.May == nil || e.cfg.May() }

func (e *Elector) tell(holder string) {
	if holder != e.told {
		e.told = holder
		e.log.Info("leader elected", "leader", holder)
	}
}

func (e *Elector) trouble(ctx context.Context, msg string, err error) {
	if ctx.Err() == nil || !errors.Is(err, context.Canceled) {
		e.log.Warn(msg, "err", err)
	}
}
