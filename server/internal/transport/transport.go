// Package transport is how the gateway holds ten thousand CI jobs' long
// polls on two cores: admission of new connections (at most 256 between
// their first bytes and their handler; silent ones kept outside net/http),
// parked long polls (a hijacked connection per waiter, no goroutine; waiters
// of one commit judged once per change; answers written by a writer per
// CPU), and epoll sets that notice a client
// hanging up. The gateway tells it what to park, how to judge a group of
// waiters and where to count; what a waiter is told is the gateway's rule.
// The figures that justify each piece are in bench/README.md.
package transport

import (
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Group is the waiters judged alike: one commit in one set of namespaces.
type Group interface {
	// Key is the same for every waiter of the group.
	Key() string
	// Judge is the group's verdict as of generation gen.
	Judge(gen <-chan struct{}) Verdict
}

// Verdict is a group's judgement at one generation.
type Verdict interface {
	// Tell is what w is told at now: a status code and the whole HTTP/1.1
	// response (one that closes its connection), or 0 while w waits on.
	// closing: the gateway is shutting down, and w must be told now.
	Tell(w Waiter, now time.Time, closing bool) (code int, response []byte)
}

// Waiter is one long poll's terms, kept by the gateway.
type Waiter interface {
	// Deadline is when the waiter is due an answer whatever happens.
	Deadline() time.Time
}

// Metrics is where the transport counts.
type Metrics struct {
	Waiting   prometheus.Gauge    // long polls parked now
	Abandoned prometheus.Counter  // parked long polls whose client left
	Release   prometheus.Observer // seconds from an answer due to written
	Answered  func(code, n int)   // n answers with status code
	// WatchFailures counts the epoll sets that failed and stopped: hang-ups
	// then go unnoticed until the waiter's timeout, and new connections
	// are admitted without waiting for their first bytes.
	WatchFailures prometheus.Counter
}

// Options configure a Transport.
type Options struct {
	// Generation is the current generation of what verdicts depend on; it
	// is closed when that changes.
	Generation func() <-chan struct{}
	// Stop begins shutdown: every parked waiter is told (closing) and no
	// more are parked.
	Stop    <-chan struct{}
	Metrics Metrics
	Log     *slog.Logger
}

// Transport admits connections and holds parked long polls.
type Transport struct {
	opts Options
	hub  hub
}

// New builds a Transport; its goroutines start with the first park.
func New(opts Options) *Transport {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	t := &Transport{opts: opts}
	t.hub.opts = &t.opts
	return t
}

// Listen wraps the gateway's listener in admission (see admit.go). The
// http.Server must use ConnContext, and its handler call Admitted.
func (t *Transport) Listen(ln net.Listener) net.Listener { return admit(ln, &t.opts) }

// Park hands the connection of waiter w, of group g, judged at generation
// judgedAt and found not final, to the dispatcher, which writes its answer
// when Tell gives one.
func (t *Transport) Park(conn net.Conn, g Group, w Waiter, judgedAt <-chan struct{}) {
	t.hub.park(conn, g, w, judgedAt)
}

// Drained is closed once every parked waiter was answered after Stop.
func (t *Transport) Drained() <-chan struct{} { return t.hub.drained() }

// watchFailed logs and counts an epoll set that stopped.
func (o *Options) watchFailed(which string, err error) {
	o.Log.Error("socket watch failed; it is off until restart", "watch", which, "err", err)
	if o.Metrics.WatchFailures != nil {
		o.Metrics.WatchFailures.Inc()
	}
}
