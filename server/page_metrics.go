package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syncgate/syncgate/status/measures"
)

// The delivery measures the status page draws, per namespace, computed
// from its Version's recorded commits at each scrape (measures.Compute,
// the page's own numbers).
var (
	leadTimeDesc = prometheus.NewDesc("syncgate_lead_time_seconds",
		"Median time from a commit (its committer time in git) to deployed, over the commits the namespace's Version records.",
		[]string{"namespace"}, nil)
	deploysPerDayDesc = prometheus.NewDesc("syncgate_deployments_per_day",
		"Deployments a day over the last 7 days (commits deployed on their own attempt).",
		[]string{"namespace"}, nil)
	failureRatioDesc = prometheus.NewDesc("syncgate_change_failure_ratio",
		"Share of the recorded attempts that failed (0 to 1).",
		[]string{"namespace"}, nil)
	restoreDesc = prometheus.NewDesc("syncgate_time_to_restore_seconds",
		"Median time from the first failure of a run of failures to the next deployment, over the recorded commits.",
		[]string{"namespace"}, nil)
)

type deliveryCollector struct{ s *Server }

func (deliveryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- leadTimeDesc
	ch <- deploysPerDayDesc
	ch <- failureRatioDesc
	ch <- restoreDesc
}

func (d deliveryCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	for _, ns := range d.s.opts.Namespaces {
		v := d.s.opts.Versions.Get(ns)
		if v == nil {
			continue
		}
		m := measures.Compute(d.s.changes(&v.Status), now)
		if med, ok := measures.Median(m.LeadTimes); ok {
			ch <- prometheus.MustNewConstMetric(leadTimeDesc, prometheus.GaugeValue, med.Seconds(), ns)
		}
		ch <- prometheus.MustNewConstMetric(deploysPerDayDesc, prometheus.GaugeValue, m.DeploysPerDay(), ns)
		if m.Deployed+m.Failed > 0 {
			ch <- prometheus.MustNewConstMetric(failureRatioDesc, prometheus.GaugeValue, m.ChangeFailureRate(), ns)
		}
		if med, ok := measures.Median(m.Restores); ok {
			ch <- prometheus.MustNewConstMetric(restoreDesc, prometheus.GaugeValue, med.Seconds(), ns)
		}
	}
}
