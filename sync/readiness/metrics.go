package readiness

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "syncgate_readiness_wait_duration_seconds",
		Help:    "Time from the start of a wait to its outcome: ready, failed, timeout or canceled.",
		Buckets: prometheus.ExponentialBuckets(0.25, 2, 12),
	}, []string{"outcome"})}
	if reg == nil {
		return m, nil
	}
	err := reg.Register(m.duration)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(*prometheus.HistogramVec); ok {
			m.duration, err = existing, nil
		}
	}
	return m, err
}

func (m *metrics) observe(start time.Time, err error) {
	var failed *FailedError
	outcome := "ready"
	switch {
	case err == nil:
	case errors.As(err, &failed):
		outcome = "failed"
	case errors.Is(err, ErrTimeout):
		outcome = "timeout"
	default:
		outcome = "canceled"
	}
	m.duration.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
}
