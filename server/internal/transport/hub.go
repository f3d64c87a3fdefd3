package transport

import (
	"net"
	"runtime"
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
	raw      syscall.RawConn // conn's socket, where it has one: for the hang-up watch
	w        Waiter
	deadline time.Time       // w's
	judgedAt <-chan struct{} // the generation first judged at

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
	g       Group  // its first member's: judges them all
	members map[*parked]struct{}
	judged  <-chan struct{} // generation every member was judged at
	next    time.Time       // no member's deadline is before it
	dirty   bool            // a member was judged at another generation
}

type hub struct {
	opts *Options
	once sync.Once

	mu     sync.Mutex
	groups map[string]*group  // by Group.Key
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
			go w.run(h.done, h.hungUp, func(err error) { h.opts.watchFailed("hang-ups", err) })
		} else {
			h.opts.Log.Info("parked long polls are freed at their timeout when the client leaves", "reason", err)
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

// park hands conn, waiter w of group gr judged at judgedAt, to the
// dispatcher.
func (h *hub) park(conn net.Conn, gr Group, w Waiter, judgedAt <-chan struct{}) {
	h.start()
	p := &parked{conn: conn, w: w, deadline: w.Deadline(), judgedAt: judgedAt, key: gr.Key()}
	// A parked connection is written once, at the end of its wait.
	_ = p.conn.SetWriteDeadline(p.deadline.Add(writeGrace))
	if sc, ok := p.conn.(syscall.Conn); ok {
		p.raw, _ = sc.SyscallConn()
	}
	h.mu.Lock()
	if h.closed { // shutdown began after the handler looked
		h.mu.Unlock()
		code, wire := gr.Judge(judgedAt).Tell(w, time.Now(), true)
		_, _ = p.conn.Write(wire)
		_ = p.conn.Close()
		h.opts.Metrics.Answered(code, 1)
		return
	}
	g := h.groups[p.key]
	if g == nil {
		g = &group{key: p.key, g: gr, members: map[*parked]struct{}{}, judged: judgedAt, next: p.deadline}
		h.groups[p.key] = g
	}
	g.members[p] = struct{}{}
	g.next = minTime(g.next, p.deadline)
	wake := judgedAt != g.judged || judgedAt != h.opts.Generation()
	g.dirty = g.dirty || wake
	h.nextID++
	p.id = h.nextID
	h.byID[p.id] = p
	if p.raw != nil && h.hang != nil {
		// Under the lock: a hang-up reported at once finds p complete.
		if err := h.hang.watch(p.raw, p.id); err == nil {
			p.watched = true
		} else {
			h.opts.Log.Debug("parked connection not watched for hang-up", "err", err)
		}
	}
	h.mu.Unlock()
	h.opts.Metrics.Waiting.Inc()
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
		changed := h.opts.Generation()
		h.sweep(changed, time.Now(), false)
		select {
		case <-changed:
		case now := <-t.C:
			h.reap(now.Add(-lingerFor))
		case <-h.wake:
		case <-h.opts.Stop:
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
		v := g.g.Judge(gen)
		h.mu.Lock()
		g.judged, g.dirty, g.next = gen, false, time.Time{}
		for p := range g.members {
			code, wire := v.Tell(p.w, now, closing)
			if code == 0 {
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
	h.opts.Metrics.Waiting.Sub(float64(len(replies)))
	for code, n := range codes {
		h.opts.Metrics.Answered(code, n)
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
