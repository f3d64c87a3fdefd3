package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/syncgate/syncgate/server/internal/transport"
)

// waiter is one /wait request's terms.
type waiter struct {
	start    time.Time
	deadline time.Time
	// progress: also answer (408, retry) as soon as the state moves, so a
	// client can show each step.
	progress bool
	first    string // the answer's summary when the wait began
	judged   bool   // first is set
}

func (w *waiter) Deadline() time.Time { return w.deadline }

// reply is what a waiter is told.
type reply struct {
	code int
	body []byte // the JSON answer
	// final is the verdict when the answer is final: its body and its
	// HTTP response are shared by every waiter on the commit.
	final *cachedVerdict
}

// tell is the rule of the long poll, the one both transports follow (a
// handler goroutine for HTTP/2 and recorders, a parked connection for
// HTTP/1.x): what waiter w is told by verdict v at now. A final verdict is
// told as it is; short of one, shutdown is 503 and retry after 1 s, the
// deadline or (with progress) a step since the wait began is 408 and
// retry, and anything else is nothing yet (code 0).
func tell(v *cachedVerdict, w *waiter, now time.Time, closing bool) reply {
	if code := codeOf(v.a); code != http.StatusRequestTimeout {
		return reply{code: code, body: v.body, final: v}
	}
	if !w.judged {
		w.first, w.judged = v.summary(), true
	}
	var code int
	switch {
	case closing:
		code = http.StatusServiceUnavailable
	case !now.Before(w.deadline), w.progress && v.summary() != w.first:
		code = http.StatusRequestTimeout
	default:
		return reply{}
	}
	a := v.a
	a.Retry = true
	a.Elapsed = now.Sub(w.start).Round(time.Millisecond).String()
	body, _ := json.Marshal(a)
	return reply{code: code, body: body}
}

// retryAfter is the Retry-After the reply carries, in seconds; 0: none.
func (r reply) retryAfter() int {
	if r.code == http.StatusServiceUnavailable {
		return 1
	}
	return 0
}

// wire is the reply as a whole HTTP/1.1 response, for a parked connection.
func (r reply) wire() []byte {
	if r.final != nil {
		return r.final.wire()
	}
	return transport.Response(r.code, r.retryAfter(), r.body)
}

// waitGroup is the waiters on one commit in one set of namespaces, as the
// transport judges them.
type waitGroup struct {
	s   *Server
	sha string
	nss []string
}

func (g waitGroup) Key() string { return verdictKey(g.sha, g.nss) }

func (g waitGroup) Judge(gen <-chan struct{}) transport.Verdict {
	return g.s.verdicts.get(gen, g.sha, g.nss, g.s.evaluate)
}

// Tell is tell for a parked waiter.
func (v *cachedVerdict) Tell(w transport.Waiter, now time.Time, closing bool) (int, []byte) {
	r := tell(v, w.(*waiter), now, closing)
	if r.code == 0 {
		return 0, nil
	}
	return r.code, r.wire()
}
