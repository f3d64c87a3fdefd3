package main

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// leading wraps the leader's work so syncgate_leader says how many shards
// this replica leads, and exports the settings alerts compare against.
func leading(reg prometheus.Registerer, cfg *config, lead func(context.Context, int) error) func(context.Context, int) error {
	leader := prometheus.NewGauge(prometheus.GaugeOpts{Name: "syncgate_leader", Help: "Shards this replica leads (applies commits of): 1 or 0 without SHARDS."})
	timeout := prometheus.NewGauge(prometheus.GaugeOpts{Name: "syncgate_health_timeout_seconds", Help: "HEALTH_TIMEOUT: how long a rollout may take."})
	interval := prometheus.NewGauge(prometheus.GaugeOpts{Name: "syncgate_git_sync_interval_seconds", Help: "GIT_SYNC_INTERVAL: how often the config repo is polled."})
	reg.MustRegister(leader, timeout, interval)
	timeout.Set(cfg.HealthTimeout.Seconds())
	interval.Set(cfg.PollInterval.Seconds())
	return func(ctx context.Context, shard int) error {
		leader.Inc()
		defer leader.Dec()
		return lead(ctx, shard)
	}
}
