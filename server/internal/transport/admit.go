package transport

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Admission of new connections. net/http gives every accepted connection a
// goroutine and two 4 KiB buffers at once, before its request is read; when
// thousands of CI jobs connect in the same second the accept loop outruns
// the handlers and the process holds thousands of half-served connections.
// The admitting listener lets at most admitSlots connections wait between
// their first bytes and their first handler; the others wait unserved. A
// slot is freed when the first request reaches a handler, when the
// connection closes, or after admitFor whatever happens, so a client that
// stalls mid-request cannot hold the door shut.
//
// A connection that has sent nothing takes no slot and is not given to
// net/http at all: where the first bytes can be watched for (Linux) it
// waits in the quiet gate, an epoll set of its own, costing its socket and
// a few words, and is closed after quietFor if nothing comes. At most
// maxQuiet wait, the oldest closed to make room. A flood of idle
// connections then neither slows real requests nor grows the heap.

const (
	admitSlots = 256
	admitFor   = 250 * time.Millisecond
	quietFor   = 10 * time.Second // as the server's ReadHeaderTimeout
	maxQuiet   = 16384
)

type admitting struct {
	net.Listener // the quiet gate, or the listener itself where there is none
	slots        chan struct{}
}

// admit is the quiet gate where first bytes can be watched for, then at
// most admitSlots connections between their first bytes and their first
// handler.
func admit(ln net.Listener, o *Options) net.Listener {
	a := &admitting{Listener: ln, slots: make(chan struct{}, admitSlots)}
	if g, err := newQuietGate(ln, quietFor, maxQuiet, o.watchFailed); err == nil {
		a.Listener = g
	} else {
		o.Log.Info("silent connections are admitted like others", "reason", err)
	}
	return a
}

func (a *admitting) Accept() (net.Conn, error) {
	a.slots <- struct{}{}
	c, err := a.Listener.Accept()
	if err != nil {
		<-a.slots
		return nil, err
	}
	ac := &admittedConn{Conn: c, slots: a.slots}
	time.AfterFunc(admitFor, ac.admit) // a no-op if admitted before
	return ac, nil
}

// admittedConn frees its slot once.
type admittedConn struct {
	net.Conn
	slots chan struct{}
	done  atomic.Bool
}

func (c *admittedConn) admit() {
	if c.done.CompareAndSwap(false, true) {
		<-c.slots
	}
}

func (c *admittedConn) Close() error {
	c.admit()
	return c.Conn.Close()
}

type admittedKey struct{}

// ConnContext remembers the connection so its first handler frees the slot.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if ac, ok := c.(*admittedConn); ok {
		return context.WithValue(ctx, admittedKey{}, ac)
	}
	return ctx
}

// Admitted frees the request's connection slot; the first call counts.
func Admitted(r *http.Request) {
	if ac, ok := r.Context().Value(admittedKey{}).(*admittedConn); ok {
		ac.admit()
	}
}
