package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Parked long polls. An HTTP/1.x waiter whose answer is not final gives its
// connection to the hub and frees its goroutine and buffers: ten thousand
// waiting pipelines cost ten thousand sockets and small records, not ten
// thousand handler goroutines. One dispatcher answers them when the Version
// changes, when their timeout ends, or at shutdown.

// sweepInterval bounds how late a timeout answer may be.
const sweepInterval = 250 * time.Millisecond

type parked struct {
	conn     net.Conn
	sha      string
	nss      []string
	start    time.Time
	deadline time.Time
	progress bool
	first    string
}

type hub struct {
	s    *Server
	once sync.Once
	mu   sync.Mutex
	all  map[*parked]struct{}
	wake chan struct{}
	done chan struct{}
	out  chan reply
}

type reply struct {
	p          *parked
	code       int
	body       []byte
	retryAfter string
}

const writers = 16

// park hands p to the dispatcher, starting it on first use.
func (h *hub) park(p *parked) {
	h.once.Do(func() {
		h.all = map[*parked]struct{}{}
		h.wake = make(chan struct{}, 1)
		h.done = make(chan struct{})
		h.out = make(chan reply, 1024)
		var wg sync.WaitGroup
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range h.out {
					h.write(r)
				}
			}()
		}
		go func() {
			h.dispatch()
			close(h.out)
			wg.Wait()
			close(h.done)
		}()
	})
	h.s.m.waiters.Inc()
	h.mu.Lock()
	h.all[p] = struct{}{}
	h.mu.Unlock()
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
	list := make([]*parked, 0, len(h.all))
	for p := range h.all {
		list = append(list, p)
	}
	h.mu.Unlock()
	for _, p := range list {
		a, body := h.s.verdicts.get(gen, p.sha, p.nss, h.s.evaluate)
		code := codeOf(a)
		switch {
		case code != http.StatusRequestTimeout:
			h.send(reply{p: p, code: code, body: body})
		case closing:
			h.send(h.retry(p, a, http.StatusServiceUnavailable, now))
		case !now.Before(p.deadline):
			h.send(h.retry(p, a, http.StatusRequestTimeout, now))
		case p.progress && summarize(a) != p.first:
			h.send(h.retry(p, a, http.StatusRequestTimeout, now))
		}
	}
}

func (h *hub) retry(p *parked, a answer, code int, now time.Time) reply {
	a.Retry = true
	a.Elapsed = now.Sub(p.start).Round(time.Millisecond).String()
	body, _ := json.Marshal(a)
	r := reply{p: p, code: code, body: body}
	if code == http.StatusServiceUnavailable {
		r.retryAfter = "1"
	}
	return r
}

func (h *hub) send(r reply) {
	h.mu.Lock()
	_, ok := h.all[r.p]
	delete(h.all, r.p)
	h.mu.Unlock()
	if !ok {
		return
	}
	h.s.m.waiters.Dec()
	h.s.m.answers.WithLabelValues(strconv.Itoa(r.code)).Inc()
	h.out <- r
}

// write sends a complete HTTP/1.1 response and closes the connection.
func (h *hub) write(r reply) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n",
		r.code, http.StatusText(r.code), len(r.body))
	if r.retryAfter != "" {
		fmt.Fprintf(&b, "Retry-After: %s\r\n", r.retryAfter)
	}
	b.WriteString("\r\n")
	b.Write(r.body)
	_ = r.p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = r.p.conn.Write(b.Bytes())
	_ = r.p.conn.Close()
}
