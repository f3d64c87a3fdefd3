// Package server is syncgate's HTTP gateway (gin): the long-poll
// GET /wait/<sha> CI blocks on, the status pages, the versions API, push
// webhooks, health and metrics. Every replica serves it from an informer on
// the Version resources, so any replica can answer a waiting pipeline.
package server
