package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// Ledger is where owed reports live: the Version status.
type Ledger interface {
	Get(ctx context.Context, namespace string) (*version.Version, error)
	UpdateStatus(ctx context.Context, namespace string, fn func(*version.VersionStatus) error) (*version.Version, error)
}

// Options configure a Deliverer.
type Options struct {
	Ledger     Ledger
	Namespaces []string
	Reporters  []status.Reporter
	Clock      clock.WithTicker
	// Backoff: first retry delay and cap (defaults 1s, 5m).
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
	Metrics                prometheus.Registerer
}

// Deliverer records owed reports and delivers them.
type Deliverer struct {
	opts      Options
	reporters map[string]status.Reporter
	names     []string
	kick      chan struct{}
	log       *slog.Logger

	mu      sync.Mutex
	next    map[string]time.Time // key → earliest next attempt
	metrics *prometheus.CounterVec
}

// New checks the options.
func New(opts Options) (*Deliverer, error) {
	if opts.Ledger == nil {
		return nil, errors.New("outbox: a ledger is required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Deliverer{opts: opts, reporters: map[string]status.Reporter{}, kick: make(chan struct{}, 1),
		log: opts.Logger, next: map[string]time.Time{},
		metrics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncgate_report_deliveries_total", Help: "Report delivery attempts by sink and result (ok, retry, permanent).",
		}, []string{"sink", "result"})}
	for _, r := range opts.Reporters {
		d.reporters[r.Name()] = r
		d.names = append(d.names, r.Name())
	}
	if opts.Metrics != nil {
		if err := opts.Metrics.Register(d.metrics); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Record adds one owed report per sink to the status. A pending report not
// yet delivered is replaced by a newer transition of the same commit, but a
// terminal one is never replaced by a non-terminal one.
func (d *Deliverer) Record(st *version.VersionStatus, u status.Update) {
	for _, sink := range d.names {
		o := owedOf(sink, u)
		replaced := false
		for i := range st.Owed {
			e := &st.Owed[i]
			if e.Sink != sink || e.SHA != u.SHA || e.Permanent {
				continue
			}
			if e.State.Terminal() && !u.State.Terminal() {
				replaced = true // keep the final word
				break
			}
			*e = o
			replaced = true
			break
		}
		if !replaced {
			st.Owed = append(st.Owed, o)
		}
	}
}

func owedOf(sink string, u status.Update) version.OwedReport {
	o := version.OwedReport{Sink: sink, SHA: u.SHA, State: u.State, Reason: u.Reason, CarriedBy: u.CarriedBy,
		Outcome: u.Outcome, Deployments: u.Deployments, Ready: int32(u.Ready), Total: int32(u.Total)}
	if !u.AppliedAt.IsZero() {
		t := metav1.NewTime(u.AppliedAt)
		o.AppliedAt = &t
	}
	if !u.FinishedAt.IsZero() {
		t := metav1.NewTime(u.FinishedAt)
		o.FinishedAt = &t
	}
	return o
}

func updateOf(cluster, namespace string, o version.OwedReport) status.Update {
	u := status.Update{Cluster: cluster, Namespace: namespace, SHA: o.SHA, State: o.State, Reason: o.Reason,
		CarriedBy: o.CarriedBy, Outcome: o.Outcome, Deployments: o.Deployments, Ready: int(o.Ready), Total: int(o.Total)}
	if o.AppliedAt != nil {
		u.AppliedAt = o.AppliedAt.Time
	}
	if o.FinishedAt != nil {
		u.FinishedAt = o.FinishedAt.Time
	}
	return u
}

// Kick wakes the deliverer after something was recorded.
func (d *Deliverer) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run delivers owed reports until ctx ends.
func (d *Deliverer) Run(ctx context.Context) error {
	if len(d.reporters) == 0 {
		<-ctx.Done()
		return nil
	}
	for {
		wait := d.deliverAll(ctx)
		t := d.opts.Clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-d.kick:
		case <-t.C():
		}
		t.Stop()
	}
}

// deliverAll makes one pass and returns how long until the next attempt is due.
func (d *Deliverer) deliverAll(ctx context.Context) time.Duration {
	wait := time.Hour
	for _, ns := range d.opts.Namespaces {
		if w := d.deliverNamespace(ctx, ns); w < wait {
			wait = w
		}
	}
	return wait
}

func key(ns string, o version.OwedReport) string {
	return fmt.Sprintf("%s/%s/%s/%s", ns, o.Sink, o.SHA, o.State)
}

func (d *Deliverer) deliverNamespace(ctx context.Context, ns string) time.Duration {
	wait := time.Hour
	v, err := d.opts.Ledger.Get(ctx, ns)
	if err != nil || v == nil {
		return d.opts.MinBackoff
	}
	blocked := map[string]bool{} // sink+sha with an earlier report still owed: keep order
	for _, o := range v.Status.Owed {
		if o.Permanent || ctx.Err() != nil {
			continue
		}
		order := o.Sink + "/" + o.SHA
		if blocked[order] {
			continue
		}
		k := key(ns, o)
		d.mu.Lock()
		due := d.next[k]
		d.mu.Unlock()
		if now := d.opts.Clock.Now(); due.After(now) {
			blocked[order] = true
			if w := due.Sub(now); w < wait {
				wait = w
			}
			continue
		}
		r := d.reporters[o.Sink]
		if r == nil {
			continue // a sink no longer configured; the report stays for people to see
		}
		err := r.Report(ctx, updateOf(v.Spec.Cluster, ns, o))
		if err == nil {
			d.metrics.WithLabelValues(o.Sink, "ok").Inc()
			d.settle(ctx, ns, o, nil)
			continue
		}
		blocked[order] = true
		if status.IsPermanent(err) {
			d.metrics.WithLabelValues(o.Sink, "permanent").Inc()
			d.log.Error("report refused; not retrying", "sink", o.Sink, "namespace", ns, "sha", o.SHA, "err", err)
			d.settle(ctx, ns, o, err)
			continue
		}
		d.metrics.WithLabelValues(o.Sink, "retry").Inc()
		delay := d.backoff(o.Attempts)
		if after, ok := status.RetryAfterOf(err); ok && after > delay {
			delay = after
		}
		d.mu.Lock()
		d.next[k] = d.opts.Clock.Now().Add(delay)
		d.mu.Unlock()
		if delay < wait {
			wait = delay
		}
		d.log.Warn("report not delivered; will retry", "sink", o.Sink, "namespace", ns, "sha", o.SHA, "retry_in", delay.String(), "err", err)
		d.note(ctx, ns, o, err)
	}
	return wait
}

func (d *Deliverer) backoff(attempts int32) time.Duration {
	b := d.opts.MinBackoff << min(attempts, 20)
	if b > d.opts.MaxBackoff || b <= 0 {
		b = d.opts.MaxBackoff
	}
	jitter := 1 + (rand.Float64()*0.4 - 0.2) //nolint:gosec // jitter, not security
	return time.Duration(float64(b) * jitter)
}

func same(a, b version.OwedReport) bool {
	return a.Sink == b.Sink && a.SHA == b.SHA && a.State == b.State && a.Outcome == b.Outcome
}

// settle clears a delivered report, or marks a refused one permanent and
// raises the Reporting condition.
func (d *Deliverer) settle(ctx context.Context, ns string, o version.OwedReport, refused error) {
	_, err := d.opts.Ledger.UpdateStatus(ctx, ns, func(st *version.VersionStatus) error {
		kept := st.Owed[:0]
		for _, e := range st.Owed {
			if !same(e, o) {
				kept = append(kept, e)
				continue
			}
			if refused != nil {
				e.Permanent, e.LastError, e.Attempts = true, refused.Error(), e.Attempts+1
				kept = append(kept, e)
			}
		}
		st.Owed = kept
		cond := metav1.Condition{Type: version.ConditionReporting, Status: metav1.ConditionTrue, Reason: "Delivered",
			Message: fmt.Sprintf("last report to %s delivered", o.Sink)}
		if refused != nil {
			cond = metav1.Condition{Type: version.ConditionReporting, Status: metav1.ConditionFalse, Reason: "SinkRefused",
				Message: fmt.Sprintf("%s refused the report for %s and it will not be retried: %v", o.Sink, o.SHA, refused)}
		} else if c := meta.FindStatusCondition(st.Conditions, version.ConditionReporting); c != nil && c.Status == metav1.ConditionFalse && !strings.HasPrefix(c.Message, o.Sink+" ") {
			return nil // another sink's refusal still stands
		}
		meta.SetStatusCondition(&st.Conditions, cond)
		return nil
	})
	if err != nil {
		d.log.Warn("cannot record report delivery", "namespace", ns, "err", err)
	}
}

// note records a failed attempt on the owed report.
func (d *Deliverer) note(ctx context.Context, ns string, o version.OwedReport, cause error) {
	_, _ = d.opts.Ledger.UpdateStatus(ctx, ns, func(st *version.VersionStatus) error {
		for i := range st.Owed {
			if same(st.Owed[i], o) {
				st.Owed[i].Attempts++
				st.Owed[i].LastError = cause.Error()
			}
		}
		return nil
	})
}
