package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/clock"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// Ledger is where owed reports live: the Version status of each namespace.
// *version.Store is one.
type Ledger interface {
	List(ctx context.Context, namespace string) ([]version.OwedReport, error)
	Update(ctx context.Context, namespace string, fn func(*version.VersionStatus) error) error
}

// Options configure a Deliverer.
type Options struct {
	// Store holds the owed reports (required).
	Store Ledger
	// Namespaces are the managed namespaces whose Versions are read.
	Namespaces []string
	// Reporters are the sinks, by their Name; reports owed to a sink not
	// listed are left in place.
	Reporters []status.Reporter
	// Clock times retries (default the real clock).
	Clock clock.Clock
	// Backoff paces retries after transient failures.
	Backoff Backoff
	// Timeout bounds one delivery attempt (default 30s).
	Timeout time.Duration
	// Resync is how often owed reports are looked at without a Kick
	// (default 1m).
	Resync time.Duration
	Logger *slog.Logger
	// Metrics registers the deliverer's metrics when set.
	Metrics prometheus.Registerer
	// Origins, when set, names the application commits a config commit
	// deploys (repo@sha, from its Syncgate-Origin trailers); Record keeps
	// them on the commit's history entry, so each report of it carries them.
	Origins func(sha string) []string
}

// Deliverer delivers owed reports, one sink at a time per commit, in the
// order they were recorded.
type Deliverer struct {
	opts      Options
	reporters map[string]status.Reporter
	sinks     []string
	kick      chan struct{}
	log       *slog.Logger
	metrics   metrics
	running   sync.Mutex

	detailsMu sync.Mutex
	details   map[string]string // identity → whole reason, for reports recorded by this process

	// Only Run's goroutine uses what follows.
	gate   map[string]time.Time // sink → no attempt before
	fails  map[string]int       // sink → transient failures in a row
	tried  map[string]bool      // refused reports already retried by this process
	logged map[string]bool      // refusals already logged at error level
}

// NewDeliverer checks the options.
func NewDeliverer(opts Options) (*Deliverer, error) {
	if opts.Store == nil {
		return nil, errors.New("outbox: a store is required")
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	opts.Backoff = opts.Backoff.withDefaults()
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Resync <= 0 {
		opts.Resync = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Deliverer{opts: opts, reporters: map[string]status.Reporter{}, kick: make(chan struct{}, 1), log: opts.Logger,
		metrics: newMetrics(), gate: map[string]time.Time{}, fails: map[string]int{}, tried: map[string]bool{}, logged: map[string]bool{}}
	for _, r := range opts.Reporters {
		if r == nil {
			continue
		}
		name := r.Name()
		if _, dup := d.reporters[name]; dup {
			return nil, fmt.Errorf("outbox: two reporters named %q", name)
		}
		d.reporters[name] = r
		d.sinks = append(d.sinks, name)
	}
	if opts.Metrics != nil {
		if err := d.metrics.register(opts.Metrics); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
	}
	return d, nil
}

// Sinks are the names of the configured reporters, in order.
func (d *Deliverer) Sinks() []string { return slices.Clone(d.sinks) }

// maxDetails bounds the whole reasons kept in memory.
const maxDetails = 256

// Record adds one report of u per configured sink to st; see Record. The
// whole reason of u, when the recorded one was cut, is kept in memory and
// reported instead while this process lives.
func (d *Deliverer) Record(st *version.VersionStatus, u status.Update) {
	if d.opts.Origins != nil && u.Origins == nil {
		if c := st.Find(u.SHA); c != nil {
			if c.Origins == nil {
				c.Origins = d.opts.Origins(u.SHA)
			}
			u.Origins = c.Origins
		}
	}
	Record(st, u, d.sinks)
	if u.Detail == "" {
		return
	}
	d.detailsMu.Lock()
	defer d.detailsMu.Unlock()
	if d.details == nil || len(d.details) >= maxDetails {
		d.details = map[string]string{}
	}
	d.details[detailKey(u.Namespace, u.SHA, u.State, u.Reason)] = u.Detail
}

func detailKey(ns, sha string, st status.State, reason string) string {
	return ns + "\x00" + sha + "\x00" + string(st) + "\x00" + reason
}

// withDetail is the update an owed report speaks of, with its whole reason
// when this process recorded it.
func (d *Deliverer) withDetail(ns string, o version.OwedReport) status.Update {
	u := updateOf(ns, o)
	d.detailsMu.Lock()
	defer d.detailsMu.Unlock()
	if full, ok := d.details[detailKey(ns, u.SHA, u.State, u.Reason)]; ok {
		u.Reason = full
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

// Run delivers owed reports until ctx ends; it returns nil then. Reports a
// sink refused for good are tried once more by each new process (a restart
// is how credentials get fixed) and again after that sink accepts another,
// unless it accepted a later report of the same commit: that one, newer,
// supersedes them and they are dropped. The refused successes of other
// commits recorded before a success a sink accepts are posted marked
// overtaken by it (see overtaken).
func (d *Deliverer) Run(ctx context.Context) error {
	if !d.running.TryLock() {
		return errors.New("outbox: Run called twice")
	}
	defer d.running.Unlock()
	for {
		wait := d.pass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if wait <= 0 {
			continue
		}
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

// pass looks at every namespace once and returns how long until the next
// attempt is due.
func (d *Deliverer) pass(ctx context.Context) time.Duration {
	wait := d.opts.Resync
	owed := map[string]int{}
	for _, ns := range d.opts.Namespaces {
		if ctx.Err() != nil {
			return wait
		}
		w, left := d.deliverNamespace(ctx, ns)
		wait = min(wait, w)
		for sink, n := range left {
			owed[sink] += n
		}
	}
	for _, sink := range d.sinks {
		d.metrics.owed.WithLabelValues(sink).Set(float64(owed[sink]))
	}
	return wait
}

func (d *Deliverer) deliverNamespace(ctx context.Context, ns string) (time.Duration, map[string]int) {
	wait := d.opts.Resync
	left := map[string]int{}
	owed, err := d.opts.Store.List(ctx, ns)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("cannot read owed reports", "namespace", ns, "err", err)
		}
		return d.opts.Backoff.Initial, left
	}
	started := map[string]bool{}                        // sink+sha already handled in this pass: keep their order
	refusedEarlier := map[string][]version.OwedReport{} // sink+sha → its refused reports passed over
	for _, o := range owed {
		left[o.Sink]++
		r := d.reporters[o.Sink]
		if r == nil || ctx.Err() != nil {
			continue
		}
		order := o.Sink + "\x00" + o.SHA
		if started[order] {
			continue
		}
		if o.Permanent && d.tried[identity(ns, o)] {
			// Refused for good; stays for people to see, unless a later
			// state of the commit is delivered: that one supersedes it.
			refusedEarlier[order] = append(refusedEarlier[order], o)
			continue
		}
		started[order] = true
		now := d.opts.Clock.Now()
		if gate := d.gate[o.Sink]; now.Before(gate) {
			wait = min(wait, gate.Sub(now))
			continue
		}
		rearmed := d.refusedBefore(o.Sink)
		switch retry, cleared := d.attempt(ctx, ns, r, o, refusedEarlier[order]); {
		case cleared > 0:
			left[o.Sink] -= cleared
			if rearmed {
				wait = 0 // reports the sink refused earlier are due now
			}
		case retry > 0:
			wait = min(wait, retry)
		}
	}
	return wait, left
}

// attempt delivers one report and records the outcome; it returns how many
// reports the delivery cleared (none when it failed), or how long until the
// sink may be tried again. Once o is delivered, the earlier reports of its
// commit that the sink refused (superseded) are dropped: the sink shows
// o's state, the latest.
func (d *Deliverer) attempt(ctx context.Context, ns string, r status.Reporter, o version.OwedReport, superseded []version.OwedReport) (time.Duration, int) {
	actx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	ref, err := report(actx, r, d.withDetail(ns, o))
	cancel()
	log := d.log.With("sink", o.Sink, "namespace", ns, "sha", o.SHA, "state", string(o.State))
	switch {
	case err == nil:
		d.metrics.deliveries.WithLabelValues(o.Sink).Inc()
		delete(d.gate, o.Sink)
		delete(d.fails, o.Sink)
		d.forgetRefusals(o.Sink)
		cleared := 1
		d.update(ctx, ns, log, func(st *version.VersionStatus) {
			cleared = delivered(st, o, superseded)
			kept(st, o.Sink, o.SHA, ref)
		})
		log.Debug("report delivered")
		return 0, max(cleared, 1)
	case ctx.Err() != nil:
		return 0, 0 // shutting down: not the sink's fault
	case status.IsPermanent(err):
		d.metrics.failures.WithLabelValues(o.Sink, "permanent").Inc()
		d.tried[identity(ns, o)] = true
		d.update(ctx, ns, log, func(st *version.VersionStatus) { refused(st, o, err) })
		if key := o.Sink + "\x00" + err.Error(); !d.logged[key] {
			d.logged[key] = true
			log.Error("report refused; not retrying until the sink accepts another or syncgate restarts", "err", err)
		} else {
			log.Debug("report refused", "err", err)
		}
		return 0, 0
	}
	d.metrics.failures.WithLabelValues(o.Sink, "transient").Inc()
	n := max(d.fails[o.Sink], int(o.Attempts))
	d.fails[o.Sink] = n + 1
	delay := d.opts.Backoff.Delay(n, rand.Float64()) //nolint:gosec // jitter, not a secret
	if after, ok := status.RetryAfterOf(err); ok && after > 0 {
		delay = after
	}
	d.gate[o.Sink] = d.opts.Clock.Now().Add(delay)
	d.update(ctx, ns, log, func(st *version.VersionStatus) { failed(st, o, err) })
	log.Warn("report not delivered; will retry", "retry_in", delay.String(), "attempts", o.Attempts+1, "err", err)
	return delay, 0
}

// report delivers u to r, and returns what r keeps of the commit when it
// is a status.Keeper.
func report(ctx context.Context, r status.Reporter, u status.Update) (string, error) {
	if k, ok := r.(status.Keeper); ok {
		return k.ReportKept(ctx, u)
	}
	return "", r.Report(ctx, u)
}

// refusedBefore reports whether the sink refused a report in this process.
func (d *Deliverer) refusedBefore(sink string) bool {
	for k := range d.tried {
		if strings.HasPrefix(k, sink+"\x00") {
			return true
		}
	}
	return false
}

// forgetRefusals lets reports the sink refused be tried again: it just
// accepted one, so whatever made it refuse may be fixed.
func (d *Deliverer) forgetRefusals(sink string) {
	for k := range d.tried {
		if strings.HasPrefix(k, sink+"\x00") {
			delete(d.tried, k)
		}
	}
	for k := range d.logged {
		if strings.HasPrefix(k, sink+"\x00") {
			delete(d.logged, k)
		}
	}
}

func (d *Deliverer) update(ctx context.Context, ns string, log *slog.Logger, fn func(*version.VersionStatus)) {
	err := d.opts.Store.Update(ctx, ns, func(st *version.VersionStatus) error {
		fn(st)
		return nil
	})
	if err != nil && ctx.Err() == nil {
		log.Warn("cannot record report delivery", "err", err)
	}
}

func identity(ns string, o version.OwedReport) string {
	return strings.Join([]string{o.Sink, ns, o.SHA, string(o.State), string(o.Outcome)}, "\x00")
}

// same reports whether a and b are the same report, whatever its delivery
// attempts, whether a newer success overtook it and what its sink kept of
// the commit: a report replaced by a newer transition while it was being
// delivered is not the one that was delivered.
func same(a, b version.OwedReport) bool {
	a.Attempts, a.LastError, a.Permanent, a.OvertakenBy, a.OvertakerOrigins, a.Ref = 0, "", false, "", nil, ""
	b.Attempts, b.LastError, b.Permanent, b.OvertakenBy, b.OvertakerOrigins, b.Ref = 0, "", false, "", nil, ""
	return equality.Semantic.DeepEqual(a, b)
}

func find(st *version.VersionStatus, o version.OwedReport) int {
	return slices.IndexFunc(st.Owed, func(e version.OwedReport) bool { return same(e, o) })
}

// maxError bounds the error text kept on a report.
const maxError = 1024

func errorText(err error) string {
	s := err.Error()
	if len(s) > maxError {
		s = s[:maxError] + "…"
	}
	return s
}
