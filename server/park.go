package server

import (
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Parked long polls. An HTTP/1.x waiter whose answer is not final gives its
// connection to the hub and frees its goroutine and buffers: ten thousand
// waiting pipelines cost ten thousand sockets and small records, not ten
// thousand handler goroutines. Waiters on the same commit and namespaces
// form a group, judged once per Version change. One dispatcher finds the
// answers that are due (a final verdict, a timeout, a progress step,
// shutdown) and a writer per CPU sends them: every answer of a batch is
// written before any of its connections is closed, so the last waiter of a
// release does not also wait for the teardown of all the others.

// sweepInterval bounds how late a timeout answer may be.
const sweepInterval = 250 * time.Millisecond

// writeGrace is how long a parked connection's answer may take to write.
const writeGrace = 10 * time.Second

type parked struct {
	id       uint64
	key      string // of its group
	conn     net.Conn
	start    time.Time
	deadline time.Time
	progress bool
	first    string // progress summary when parked
}

// group is every waiter on one commit and set of namespaces.
type group struct {
	sha     string
	nss     []string
	members map[*parked]struct{}
}

type hub struct {
	s    *Server
	once sync.Once

	mu     sync.Mutex
	groups map[string]*group // by verdictKey
	byID   map[uint64]*parked
	nextID uint64

	hang *hangups // nil where hang-ups are not detected

	wake    chan struct{}
	batches chan batch
	writing sync.WaitGroup // batches handed to writers and not yet done
	done    chan struct{}
}

// batch is one writer's share of a release.
type batch struct {
	replies []reply
	written *sync.WaitGroup
	due     time.Time // when the sweep found them due
}

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
		h.batches = make(chan batch, 64)
		workers := runtime.GOMAXPROCS(0)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for b := range h.batches {
					for _, r := range b.replies {
						_, _ = r.p.conn.Write(r.wire)
						h.s.m.release.Observe(time.Since(b.due).Seconds())
					}
					b.written.Done()
					h.writing.Done()
				}
			}()
		}
		go func() {
			h.dispatch()
			h.writing.Wait()
			close(h.batches)
			wg.Wait()
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
	h.mu.Lock()
	g := h.groups[p.key]
	if g == nil {
		g = &group{sha: sha, nss: nss, members: map[*parked]struct{}{}}
		h.groups[p.key] = g
	}
	g.members[p] = struct{}{}
	h.nextID++
	p.id = h.nextID
	h.byID[p.id] = p
	h.mu.Unlock()
	h.s.m.waiters.Inc()
	if sc, ok := p.conn.(syscall.Conn); ok && h.hang != nil {
		if err := h.hang.watch(sc, p.id); err != nil {
			h.s.log.Debug("parked connection not watched for hang-up", "error", err)
		}
	}
	select {
	case h.wake <- struct{}{}:
	default:
	}
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
		case <-t.C:
		case <-h.wake:
		case <-h.s.shutdown:
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

	var due []reply
	codes := map[int]int{}
	for _, g := range groups {
		v := h.s.verdicts.get(gen, g.sha, g.nss, h.s.evaluate)
		code := codeOf(v.a)
		h.mu.Lock()
		if code != http.StatusRequestTimeout { // final: the whole group goes
			for p := range g.members {
				due = append(due, reply{p: p, wire: v.wire(code)})
				delete(h.byID, p.id)
			}
			codes[code] += len(g.members)
			delete(h.groups, verdictKey(g.sha, g.nss))
			h.mu.Unlock()
			continue
		}
		for p := range g.members {
			switch {
			case closing:
				due = append(due, reply{p: p, wire: retryWire(p, v.a, http.StatusServiceUnavailable, now)})
				codes[http.StatusServiceUnavailable]++
			case !now.Before(p.deadline), p.progress && v.summary() != p.first:
				due = append(due, reply{p: p, wire: retryWire(p, v.a, http.StatusRequestTimeout, now)})
				codes[http.StatusRequestTimeout]++
			default:
				continue
			}
			delete(g.members, p)
			delete(h.byID, p.id)
		}
		if len(g.members) == 0 {
			delete(h.groups, verdictKey(g.sha, g.nss))
		}
		h.mu.Unlock()
	}
	if len(due) == 0 {
		return
	}
	h.s.m.waiters.Sub(float64(len(due)))
	for code, n := range codes {
		h.s.m.answers.WithLabelValues(strconv.Itoa(code)).Add(float64(n))
	}
	// One batch per writer: contiguous slices, no per-answer hand-off.
	workers := runtime.GOMAXPROCS(0)
	size := (len(due) + workers - 1) / workers
	var written sync.WaitGroup
	for i := 0; i < len(due); i += size {
		h.writing.Add(1)
		written.Add(1)
		h.batches <- batch{replies: due[i:min(i+size, len(due))], written: &written, due: now}
	}
	// Connections are closed once the whole release is written, by one
	// goroutine, 64 at a time with a pause of a millisecond between: a
	// close costs more than a write (a FIN to send and process), and the
	// teardown should not take the CPU from answers still being written or
	// read. Ten thousand closes spread over about a quarter of a second.
	h.writing.Add(1)
	go func() {
		defer h.writing.Done()
		written.Wait()
		for i, r := range due {
			_ = r.p.conn.Close()
			if i%64 == 63 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
}

// hungUp frees a parked waiter whose client closed its connection.
func (h *hub) hungUp(id uint64) {
	h.mu.Lock()
	p := h.byID[id]
	if p == nil { // answered meanwhile
		h.mu.Unlock()
		return
	}
	delete(h.byID, id)
	if g := h.groups[p.key]; g != nil {
		delete(g.members, p)
		if len(g.members) == 0 {
			delete(h.groups, p.key)
		}
	}
	h.mu.Unlock()
	h.s.m.waiters.Dec()
	h.s.m.abandoned.Inc()
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
