// Package metricstest reads one metric out of a Prometheus registry, for
// the tests of the packages that export metrics.
package metricstest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// Find is the first metric called name with a label called label of the
// given value (label "": the first metric called name), and whether there
// is one.
func Find(t testing.TB, g prometheus.Gatherer, name, label, value string) (*dto.Metric, bool) {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" {
				return m, true
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m, true
				}
			}
		}
	}
	return nil, false
}

// Value is a counter's value, or else a gauge's.
func Value(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}
