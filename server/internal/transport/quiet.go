package transport

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

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
// oldest when more than most are. failed hears of the watch failing.
func newQuietGate(ln net.Listener, quiet time.Duration, most int, failed func(watch string, err error)) (*quietGate, error) {
	w, err := newFirstBytes()
	if err != nil {
		return nil, err
	}
	return startQuietGate(ln, quiet, most, w, failed), nil
}

func startQuietGate(ln net.Listener, quiet time.Duration, most int, w *socketWatch, failed func(watch string, err error)) *quietGate {
	g := &quietGate{ln: ln, quietFor: quiet, maxQuiet: most, watch: w,
		ready: make(chan net.Conn, 64), done: make(chan struct{}), quiet: map[uint64]*quietConn{}}
	go w.run(g.done, g.spoke, func(err error) {
		failed("first bytes", err)
		g.passAll()
	})
	go g.acceptLoop()
	go g.expireLoop()
	return g
}

// passAll passes on every connection still quiet, once the watch for
// their first bytes failed: net/http's own timeouts take over. The
// connections that come after are passed on at once, since watch refuses
// them.
func (g *quietGate) passAll() {
	g.mu.Lock()
	var all []net.Conn
	for _, q := range g.order {
		if !q.left {
			q.left = true
			all = append(all, q.c)
		}
	}
	g.quiet, g.order = map[uint64]*quietConn{}, nil
	g.mu.Unlock()
	for _, c := range all {
		g.pass(c)
	}
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
