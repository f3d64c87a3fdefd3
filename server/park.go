package server

import (
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Parked long polls. An HTTP/1.x waiter whose answer is not final gives its
// connection to the hub and frees its goroutine and buffers: ten thousand
// waiting pipelines cost ten thousand sockets and small records, not ten
// thousand handler goroutines. Waiters on the same commit and namespaces
// form a group, judged once per Version change. One dispatcher finds the
// answers that are due (a final verdict, a timeout, a progress step,
// shutdown) and a writer per CPU writes them, one pre-encoded response per
// group. The writers share a release by claiming runs of answers from its
// front, so one writer held up by the scheduler does not leave the others
// idle with part of the release still to write.
//
// Closing is kept off that path. Where hang-ups are watched (Linux), an
// answered connection is closed when its client closes its end, as the
// answer's "Connection: close" asks it to, or after lingerFor: the FIN then
// comes from the client, and so does the TIME_WAIT. Elsewhere connections
// are closed once the whole release is written, paced.

// sweepInterval bounds how late a timeout answer may be.
const sweepInterval = 250 * time.Millisecond

// writeGrace is how long a parked connection's answer may take to write.
const writeGrace = 10 * time.Second

// lingerFor is how long an answered connection waits for its client to close.
const lingerFor = 2 * time.Second

type parkState int

const (
	waiting parkState = iota // in its group
	due                      // answer being written
	written                  // answered; waiting for the client to close
	closed                   // closed after its answer; left for reap to drop
)

type parked struct {
	id       uint64
	key      string // of its group
	conn     net.Conn
	raw      syscall.RawConn // conn's socket, where it has one
	start    time.Time
	deadline time.Time
	progress bool
	first    string          // progress summary when parked
	judgedAt <-chan struct{} // the Versions generation first judged at

	// Guarded by hub.mu.
	state     parkState
	watched   bool // in the hang-up set
	peerGone  bool // the client closed while its answer was due
	writtenAt time.Time
}

// group is every waiter on one commit and set of namespaces. A sweep
// looks at its members only when the Versions changed since the group was
// last judged, a member was judged at another generation, or the earliest
// deadline came: ten thousand waiters on one rollout cost nothing between
// changes.
type group struct {
	key     string // in hub.groups
	sha     string
	nss     []string
	members map[*parked]struct{}
	judged  <-chan struct{} // generation every member was judged at
	next    time.Time       // no member's deadline is before it
	dirty   bool            // a member was judged at another generation
}

type hub struct {
	s    *Server
	once sync.Once

	mu     sync.Mutex
	groups map[string]*group  // by verdictKey
	byID   map[uint64]*parked // waiting, due, and (watched) written
	nextID uint64
	// Answered connections waiting for their clients to close, in the
	// order they were written; a closed one stays until reap reaches it.
	lingering []*parked
	closed    bool // shutting down: no more parking

	hang *socketWatch // nil where hang-ups are not detected

	wake     chan struct{}
	releases chan *release
	writing  sync.WaitGroup // writers' shares and closers not yet done
	done     chan struct{}
}

// release is the answers one sweep found due. Writers claim them
// writeRun at a time.
type release struct {
	replies []reply
	next    atomic.Int64 // first reply not yet claimed
	written sync.WaitGroup
	due     time.Time // when the sweep found them due
}

// writeRun is how many answers a writer claims at once: enough to make the
// claim cheap, few enough that the writers finish together.
const writeRun = 32

type reply struct {
	p    *parked
	wire []byte // the whole HTTP response
}

// start launches the dispatcher and the writers on first use.
func (h *hub) start() {
	h.once.Do(func() {
		h.mu.Lock()
		h.groups = map[string]*group{}
		h.byID = map[uint64]*parked{}
		h.done = make(chan struct{})
		h.mu.Unlock()
		if w, err := newHangups(); err == nil {
			h.hang = w
			go w.run(h.done, h.hungUp)
		} else {
			h.s.log.Info("parked long polls are freed at their timeout when the client leaves", "reason", err)
		}
		h.wake = make(chan struct{}, 1)
		h.releases = make(chan *release, 64)
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range h.releases {
					h.write(r)
					r.written.Done()
					h.writing.Done()
				}
			}()
		}
		go func() {
			h.dispatch()
			h.writing.Wait()
			close(h.releases)
			wg.Wait()
			h.reap(time.Time{}) // shutting down: no more lingering
			close(h.done)
		}()
	})
}

// park hands p, waiting on sha in nss, to the dispatcher.
func (h *hub) park(sha string, nss []string, p *parked) {
	h.start()
	// A parked connection is written once, at the end of its wait.
	_ = p.conn.SetWriteDeadline(p.deadline.Add(writeGrace))
	p.key = verdictKey(sha, nss)
	if sc, ok := p.conn.(syscall.Conn); ok {
		p.raw, _ = sc.SyscallConn()
	}
	h.mu.Lock()
	if h.closed { // shutdown began after the handler looked
		h.mu.Unlock()
		v := h.s.verdicts.get(p.judgedAt, sha, nss, h.s.evaluate)
		_, _ = p.conn.Write(retryWire(p, v.a, http.StatusServiceUnavailable, time.Now()))
		_ = p.conn.Close()
		h.s.m.answers.WithLabelValues(strconv.Itoa(http.StatusServiceUnavailable)).Inc()
		return
	}
	g := h.groups[p.key]
	if g == nil {
		g = &group{key: p.key, sha: sha, nss: nss, members: map[*parked]struct{}{}, judged: p.judgedAt, next: p.deadline}
		h.groups[p.key] = g
	}
	g.members[p] = struct{}{}
	g.next = minTime(g.next, p.deadline)
	wake := p.judgedAt != g.judged || p.judgedAt != h.s.opts.Versions.Changed()
	g.dirty = g.dirty || wake
	h.nextID++
	p.id = h.nextID
	h.byID[p.id] = p
	if p.raw != nil && h.hang != nil {
		// Under the lock: a hang-up reported at once finds p complete.
		if err := h.hang.watch(p.raw, p.id); err == nil {
			p.watched = true
		} else {
			h.s.log.Debug("parked connection not watched for hang-up", "error", err)
		}
	}
	h.mu.Unlock()
	h.s.m.waiters.Inc()
	if !wake {
		return
	}
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// drained is closed once every parked waiter got its answer after shutdown.
func (h *hub) drained() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return h.done
}

func (h *hub) dispatch() {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		changed := h.s.opts.Versions.Changed()
		h.sweep(changed, time.Now(), false)
		select {
		case <-changed:
		case now := <-t.C:
			h.reap(now.Add(-lingerFor))
		case <-h.wake:
		case <-h.s.shutdown:
			h.mu.Lock()
			h.closed = true
			h.mu.Unlock()
			h.sweep(changed, time.Now(), true)
			return
		}
	}
}

// sweep answers every parked waiter whose answer is due.
func (h *hub) sweep(gen <-chan struct{}, now time.Time, closing bool) {
	h.mu.Lock()
	groups := make([]*group, 0, len(h.groups))
	for _, g := range h.groups {
		groups = append(groups, g)
	}
	h.mu.Unlock()

	var replies []reply
	codes := map[int]int{}
	for _, g := range groups {
		h.mu.Lock()
		quiet := !closing && !g.dirty && g.judged == gen && now.Before(g.next)
		h.mu.Unlock()
		if quiet {
			continue
		}
		v := h.s.verdicts.get(gen, g.sha, g.nss, h.s.evaluate)
		final := codeOf(v.a)
		h.mu.Lock()
		g.judged, g.dirty, g.next = gen, false, time.Time{}
		for p := range g.members {
			var code int
			var wire []byte
			switch {
			case final != http.StatusRequestTimeout:
				code, wire = final, v.wire()
			case closing:
				code = http.StatusServiceUnavailable
				wire = retryWire(p, v.a, code, now)
			case !now.Before(p.deadline), p.progress && v.summary() != p.first:
				code = http.StatusRequestTimeout
				wire = retryWire(p, v.a, code, now)
			default:
				if g.next.IsZero() || p.deadline.Before(g.next) {
					g.next = p.deadline
				}
				continue
			}
			codes[code]++
			replies = append(replies, reply{p: p, wire: wire})
			delete(g.members, p)
			h.answered(p)
		}
		if len(g.members) == 0 {
			delete(h.groups, g.key)
		}
		h.mu.Unlock()
	}
	if len(replies) == 0 {
		return
	}
	h.s.m.waiters.Sub(float64(len(replies)))
	for code, n := range codes {
		h.s.m.answers.WithLabelValues(strconv.Itoa(code)).Add(float64(n))
	}
	rel := &release{replies: replies, due: now}
	for range min(runtime.GOMAXPROCS(0), (len(replies)+writeRun-1)/writeRun) {
		h.writing.Add(1)
		rel.written.Add(1)
		h.releases <- rel
	}
	var unwatched []net.Conn
	for _, r := range replies {
		if !r.p.watched {
			unwatched = append(unwatched, r.p.conn)
		}
	}
	if len(unwatched) == 0 {
		return
	}
	// Closed once the whole release is written, by one goroutine, 64 at a
	// time with a pause of a millisecond between: a close costs more than
	// a write, and should not take the CPU from answers still on their way.
	h.writing.Add(1)
	go func() {
		defer h.writing.Done()
		rel.written.Wait()
		for i, c := range unwatched {
			_ = c.Close()
			if i%64 == 63 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
}

// answered moves p from waiting to due. Called with h.mu held.
func (h *hub) answered(p *parked) {
	p.state = due
	if !p.watched {
		delete(h.byID, p.id)
	}
}

// write sends answers of r until none is left to claim; a watched
// connection then lingers until its client closes it.
func (h *hub) write(r *release) {
	var gone []net.Conn
	for {
		end := int(r.next.Add(writeRun))
		start := end - writeRun
		if start >= len(r.replies) {
			break
		}
		run := r.replies[start:min(end, len(r.replies))]
		for _, rp := range run {
			_ = rp.p.send(rp.wire)
			h.s.m.release.Observe(time.Since(r.due).Seconds())
		}
		now := time.Now()
		h.mu.Lock()
		for _, rp := range run {
			p := rp.p
			if !p.watched {
				continue
			}
			if p.peerGone {
				delete(h.byID, p.id)
				gone = append(gone, p.conn)
				continue
			}
			p.state, p.writtenAt = written, now
			h.lingering = append(h.lingering, p)
		}
		h.mu.Unlock()
	}
	for _, c := range gone {
		_ = c.Close()
	}
}

// reap closes answered connections written before cutoff whose clients
// did not close them; the zero cutoff closes all.
func (h *hub) reap(cutoff time.Time) {
	var old []net.Conn
	h.mu.Lock()
	i := 0
	for ; i < len(h.lingering); i++ {
		p := h.lingering[i]
		if p.state != written {
			continue
		}
		if !cutoff.IsZero() && !p.writtenAt.Before(cutoff) {
			break // writers append in about the order they write
		}
		p.state = closed
		delete(h.byID, p.id)
		old = append(old, p.conn)
	}
	clear(h.lingering[:i])
	h.lingering = h.lingering[i:]
	h.mu.Unlock()
	for _, c := range old {
		_ = c.Close()
	}
}

// hungUp handles a client that closed its connection: a waiter is freed,
// an answered connection closed.
func (h *hub) hungUp(id uint64) {
	h.mu.Lock()
	p := h.byID[id]
	if p == nil {
		h.mu.Unlock()
		return
	}
	switch p.state {
	case due: // the writer closes it
		p.peerGone = true
		h.mu.Unlock()
		return
	case written:
		p.state = closed
	case waiting:
		if g := h.groups[p.key]; g != nil {
			delete(g.members, p)
			if len(g.members) == 0 {
				delete(h.groups, p.key)
			}
		}
		h.s.m.waiters.Dec()
		h.s.m.abandoned.Inc()
	}
	delete(h.byID, id)
	h.mu.Unlock()
	_ = p.conn.Close()
}

// retryWire is a not-final answer telling the client to ask again.
func retryWire(p *parked, a answer, code int, now time.Time) []byte {
	a.Retry = true
	a.Elapsed = now.Sub(p.start).Round(time.Millisecond).String()
	body, _ := json.Marshal(a)
	extra := ""
	if code == http.StatusServiceUnavailable {
		extra = "Retry-After: 1\r\n"
	}
	return wireResponse(code, extra, body)
}

// wireResponse is a complete HTTP/1.1 response that closes its connection.
func wireResponse(code int, extraHeaders string, body []byte) []byte {
	b := make([]byte, 0, 160+len(extraHeaders)+len(body))
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(code)...)
	b = append(b, "\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n"...)
	b = append(b, extraHeaders...)
	b = append(b, "\r\n"...)
	return append(b, body...)
}
