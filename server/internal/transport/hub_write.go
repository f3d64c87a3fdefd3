package transport

import (
	"net"
	"net/http"
	"strconv"
	"time"
)

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
			h.opts.Metrics.Release.Observe(time.Since(r.due).Seconds())
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
		h.opts.Metrics.Waiting.Dec()
		h.opts.Metrics.Abandoned.Inc()
	}
	delete(h.byID, id)
	h.mu.Unlock()
	_ = p.conn.Close()
}

// Response is a complete HTTP/1.1 response with a JSON body that closes
// its connection, as a parked waiter is answered; retryAfter is the
// Retry-After header's seconds, none when 0.
func Response(code int, retryAfter int, body []byte) []byte {
	extraHeaders := ""
	if retryAfter > 0 {
		extraHeaders = "Retry-After: " + strconv.Itoa(retryAfter) + "\r\n"
	}
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
