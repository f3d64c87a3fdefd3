package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
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

func newAdmitting(ln net.Listener, log func(msg string, args ...any)) *admitting {
	a := &admitting{Listener: ln, slots: make(chan struct{}, admitSlots)}
	if g, err := newQuietGate(ln, quietFor, maxQuiet); err == nil {
		a.Listener = g
	} else {
		log("silent connections are admitted like others", "reason", err)
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

// quietGate accepts every connection at once and passes on, through
// Accept, those that sent something (or hung up).
type quietGate struct {
	ln       net.Listener
	quietFor time.Duration
	maxQuiet int
	watch    *socketWatch
	ready    chan net.Conn
	done     chan struct{}
	closed   sync.Once

	mu     sync.Mutex
	quiet  map[uint64]*quietConn
	order  []*quietConn // by arrival; those no longer quiet are skipped
	nextID uint64
}

type quietConn struct {
	id    uint64
	c     net.Conn
	since time.Time
	left  bool // passed on or closed; guarded by quietGate.mu
}

// newQuietGate closes connections quiet for longer than quiet, and the
// oldest when more than most are.
func newQuietGate(ln net.Listener, quiet time.Duration, most int) (*quietGate, error) {
	w, err := newFirstBytes()
	if err != nil {
		return nil, err
	}
	g := &quietGate{ln: ln, quietFor: quiet, maxQuiet: most, watch: w,
		ready: make(chan net.Conn, 64), done: make(chan struct{}), quiet: map[uint64]*quietConn{}}
	go w.run(g.done, g.spoke)
	go g.acceptLoop()
	go g.expireLoop()
	return g, nil
}

func (g *quietGate) Accept() (net.Conn, error) {
	select {
	case c := <-g.ready:
		return c, nil
	case <-g.done:
		return nil, net.ErrClosed
	}
}

func (g *quietGate) Addr() net.Addr { return g.ln.Addr() }

// Close stops accepting and closes the connections still quiet.
func (g *quietGate) Close() error {
	err := g.ln.Close()
	g.closed.Do(func() {
		close(g.done)
		g.mu.Lock()
		quiet := g.quiet
		g.quiet, g.order = map[uint64]*quietConn{}, nil
		g.mu.Unlock()
		for _, q := range quiet {
			_ = q.c.Close()
		}
		for {
			select {
			case c := <-g.ready:
				_ = c.Close()
			default:
				return
			}
		}
	})
	return err
}

func (g *quietGate) acceptLoop() {
	var delay time.Duration
	for {
		c, err := g.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				_ = g.Close()
				return
			}
			// Out of file descriptors and the like: wait, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(delay):
				continue
			case <-g.done:
				return
			}
		}
		delay = 0
		g.add(c)
	}
}

// add puts c in the quiet set, or passes it on when it cannot be watched.
func (g *quietGate) add(c net.Conn) {
	var raw syscall.RawConn
	if sc, ok := c.(syscall.Conn); ok {
		raw, _ = sc.SyscallConn()
	}
	if raw == nil {
		g.pass(c)
		return
	}
	var evicted net.Conn
	g.mu.Lock()
	g.nextID++
	id := g.nextID
	q := &quietConn{id: id, c: c, since: time.Now()}
	g.quiet[id] = q
	g.order = append(g.order, q)
	// Under the lock: an event reported at once finds q.
	if err := g.watch.watch(raw, id); err != nil {
		delete(g.quiet, id)
		q.left = true
		g.mu.Unlock()
		g.pass(c)
		return
	}
	if len(g.quiet) > g.maxQuiet {
		evicted = g.evictOldest()
	}
	g.mu.Unlock()
	if evicted != nil {
		_ = evicted.Close()
	}
}

// evictOldest takes the longest-quiet connection out of the set. Called
// with g.mu held.
func (g *quietGate) evictOldest() net.Conn {
	for i, q := range g.order {
		if q.left {
			continue
		}
		q.left = true
		delete(g.quiet, q.id)
		clear(g.order[:i+1])
		g.order = g.order[i+1:]
		return q.c
	}
	return nil
}

// spoke passes on the connection whose first bytes (or end) came.
func (g *quietGate) spoke(id uint64) {
	g.mu.Lock()
	q := g.quiet[id]
	if q != nil {
		delete(g.quiet, id)
		q.left = true
	}
	g.mu.Unlock()
	if q != nil {
		g.pass(q.c)
	}
}

func (g *quietGate) pass(c net.Conn) {
	select {
	case g.ready <- c:
	case <-g.done:
		_ = c.Close()
	}
}

// expireLoop closes connections quiet for longer than quietFor.
func (g *quietGate) expireLoop() {
	t := time.NewTicker(min(g.quietFor/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-g.done:
			return
		case now := <-t.C:
			g.expire(now.Add(-g.quietFor))
		}
	}
}

func (g *quietGate) expire(cutoff time.Time) {
	var old []net.Conn
	g.mu.Lock()
	i := 0
	for ; i < len(g.order); i++ {
		q := g.order[i]
		if q.left {
			continue
		}
		if q.since.After(cutoff) {
			break
		}
		q.left = true
		delete(g.quiet, q.id)
		old = append(old, q.c)
	}
	clear(g.order[:i])
	g.order = g.order[i:]
	g.mu.Unlock()
	for _, c := range old {
		_ = c.Close()
	}
}
