// Package server is syncgate's HTTP gateway (gin): the long-poll
// GET /wait/<sha> CI blocks on, the status pages, the versions API, push
// webhooks, health and metrics. Every replica serves it from an informer on
// the Version resources, so any replica can answer a waiting pipeline.
//
// Routes and verdicts are here: what a waiter is told is tell (wait_tell.go),
// whichever way it waits. How thousands of waiters are held on few cores
// (admission, parked connections, raw sends, hang-up watch) is
// server/internal/transport.
package server
