package syncer

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
)

type metrics struct {
	commits *prometheus.CounterVec
	apply   prometheus.Histogram
	rollout *prometheus.HistogramVec
	fetch   prometheus.Histogram
	drift   prometheus.Counter
	// fetched is when a fetch last succeeded; started, per namespace, when
	// the commit in flight began (absent when none is), set by inFlight
	// alone.
	fetched prometheus.Gauge
	started *prometheus.GaugeVec
	// unchanged counts commits recorded deployed without being rendered:
	// their inputs in the namespace were those of the commit before.
	unchanged prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncgate_syncer_commits_total", Help: "Commits that reached a terminal state, by namespace and outcome.",
		}, []string{"namespace", "outcome"}),
		apply: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "syncgate_syncer_apply_duration_seconds", Help: "Time to validate and apply one commit in one namespace.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}),
		rollout: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "syncgate_syncer_rollout_duration_seconds", Help: "Time from apply to a terminal rollout state.",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 12),
		}, []string{"outcome"}),
		fetch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "syncgate_git_fetch_duration_seconds", Help: "Time to check the remote and fetch new commits.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
		drift: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "syncgate_syncer_drift_corrections_total", Help: "Objects re-applied because their live state drifted.",
		}),
		fetched: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "syncgate_git_last_fetch_success_timestamp_seconds", Help: "When the config repo was last checked (and fetched) without error, in Unix seconds.",
		}),
		started: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syncgate_syncer_commit_started_timestamp_seconds", Help: "When the clock of the commit in flight in a namespace started, as its Version says (its begin; once applied, when its health timeout counts from), in Unix seconds; reported by the leader alone, absent when none is.",
		}, []string{"namespace"}),
		unchanged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "syncgate_syncer_unchanged_commits_total",
			Help: "Commits recorded deployed in a namespace without render, apply or wait: its inputs were the applied commit's.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.commits, m.apply, m.rollout, m.fetch, m.drift, m.fetched, m.started, m.unchanged} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}

// ended counts a commit that reached outcome in ns.
func (m *metrics) ended(ns, outcome string) {
	m.commits.WithLabelValues(ns, outcome).Inc()
}

// inFlight reports the commit st says is under way in ns, or none: called
// with every status a leader reads or writes, and with nil when it stops
// leading, so only the leader of the moment reports one.
func (m *metrics) inFlight(ns string, st *version.VersionStatus) {
	if st != nil {
		if _, began, ok := lifecycle.InFlight(st); ok {
			m.started.WithLabelValues(ns).Set(float64(began.Unix()))
			return
		}
	}
	m.started.DeleteLabelValues(ns)
}
