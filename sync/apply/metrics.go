package apply

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	duration *prometheus.HistogramVec
	objects  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "syncgate_apply_duration_seconds",
			Help:    "Time of one Apply (dry run, apply, prune) or Drift of a namespace, by operation and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}, []string{"operation", "outcome"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncgate_apply_objects_total",
			Help: "Objects handled, by result: applied, unchanged (not sent), pruned, refused (by the dry run), drifted (re-applied), adopted (existed before syncgate first applied them), kept (dropped by the commit but not syncgate's to delete).",
		}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.objects, err = register(reg, m.objects); err != nil {
		return nil, err
	}
	return m, nil
}

// register shares the collector already registered by another Applier.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

func (m *metrics) observe(operation string, start time.Time, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.duration.WithLabelValues(operation, outcome).Observe(time.Since(start).Seconds())
}

func (m *metrics) count(result string, n int) {
	if n > 0 {
		m.objects.WithLabelValues(result).Add(float64(n))
	}
}
