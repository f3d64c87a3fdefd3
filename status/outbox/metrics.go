package outbox

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	deliveries *prometheus.CounterVec
	failures   *prometheus.CounterVec
	owed       *prometheus.GaugeVec
}

func newMetrics() metrics {
	return metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncgate_outbox_deliveries_total", Help: "Reports delivered, by sink.",
		}, []string{"sink"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncgate_outbox_failures_total", Help: "Failed delivery attempts, by sink and kind (transient, permanent).",
		}, []string{"sink", "kind"}),
		owed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syncgate_outbox_owed_reports", Help: "Reports recorded and not yet delivered, by sink, as of the last pass.",
		}, []string{"sink"}),
	}
}

func (m metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.deliveries, m.failures, m.owed} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}
