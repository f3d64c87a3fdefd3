package api

import "github.com/syncgate/syncgate/status/lifecycle"

// Answer is the JSON body of GET /wait/{sha} and GET /status/{sha}.
type Answer struct {
	SHA string `json:"sha"`
	// State is the commit's verdict over the namespaces asked about:
	// deployed, failed, a lifecycle state in progress, pending, unknown;
	// "starting" before the first sync, "error" for a bad request,
	// "unavailable" (503) when the fetch looking for an unknown sha failed
	// or syncgate is shutting down, "fetching" (408 on /wait, 202 on
	// /status) when that fetch had not ended by the request's deadline.
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Cluster is the answering gateway's CLUSTER_NAME, on every answer.
	Cluster string `json:"cluster"`
	// Namespaces holds the verdict of each namespace asked about.
	Namespaces map[string]lifecycle.Verdict `json:"namespaces,omitempty"`
	Elapsed    string                       `json:"elapsed,omitempty"`
	// Retry is set on answers that are not final: ask again.
	Retry bool   `json:"retry,omitempty"`
	Error string `json:"error,omitempty"`
}

// Summary is a stable one-line form of the per-namespace verdicts, what a
// client showing progress sees change.
func (a Answer) Summary() string { return lifecycle.Summary(a.Namespaces) }
