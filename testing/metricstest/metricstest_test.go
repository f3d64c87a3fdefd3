package metricstest_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/metricstest"
)

func TestFind(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c_total"}, []string{"sink"})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"})
	reg.MustRegister(c, g)
	c.WithLabelValues("github").Add(2)
	c.WithLabelValues("s3").Add(3)
	g.Set(7)

	for _, tc := range []struct {
		name, metric, label, value string
		want                       float64
		found                      bool
	}{
		{"counter by label", "c_total", "sink", "s3", 3, true},
		{"gauge, no label", "g", "", "", 7, true},
		{"no such value", "c_total", "sink", "gitlab", 0, false},
		{"no such label", "c_total", "namespace", "s3", 0, false},
		{"no such metric", "h", "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := metricstest.Find(t, reg, tc.metric, tc.label, tc.value)
			require.Equal(t, tc.found, ok)
			if ok {
				require.Equal(t, tc.want, metricstest.Value(m))
			}
		})
	}
}
