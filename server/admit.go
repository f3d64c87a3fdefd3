package server

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
// accept and their first handler; the others wait in the kernel's accept
// queue, which costs the process nothing. A slot is freed when the first
// request reaches a handler, when the connection closes, or after admitFor
// whatever happens, so a client that connects and sends nothing cannot
// hold the door shut.

const (
	admitSlots = 256
	admitFor   = 250 * time.Millisecond
)

type admitting struct {
	net.Listener
	slots chan struct{}
}

func newAdmitting(ln net.Listener) *admitting {
	return &admitting{Listener: ln, slots: make(chan struct{}, admitSlots)}
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

// connContext remembers the connection so its first handler frees the slot.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if ac, ok := c.(*admittedConn); ok {
		return context.WithValue(ctx, admittedKey{}, ac)
	}
	return ctx
}

// admitted frees the request's connection slot; the first call counts.
func admitted(r *http.Request) {
	if ac, ok := r.Context().Value(admittedKey{}).(*admittedConn); ok {
		ac.admit()
	}
}
