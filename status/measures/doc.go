// Package measures computes the delivery measures teams track from a
// namespace's recorded commits: lead time from commit to deployed,
// deployment frequency, change failure rate and time to restore. The status
// page draws them and the gateway exports them as Prometheus metrics; both
// call Compute, so the two always agree.
package measures
