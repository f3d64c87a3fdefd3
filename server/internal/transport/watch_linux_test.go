package transport

import (
	"bufio"
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// breakWatch makes w's epoll set fail as a broken one would: its
// descriptor now names /dev/null, so epoll_wait answers EINVAL. The set's
// own descriptor stays w's to close, once.
func breakWatch(t *testing.T, w *socketWatch) {
	t.Helper()
	null, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(null)
	require.NoError(t, unix.Dup3(null, w.epfd, unix.O_CLOEXEC))
}

// A watch whose epoll set fails says so in the log and the counter, and
// refuses sockets from then on; the quiet gate then passes on the
// connections it held, so they are served rather than stranded.
func TestWatchFailureIsLoggedAndCounted(t *testing.T) {
	w, err := newFirstBytes()
	if err != nil {
		t.Skipf("no socket watch here: %v", err)
	}
	var logs syncBuffer
	failures := prometheus.NewCounter(prometheus.CounterOpts{Name: "failures"})
	o := &Options{Log: slog.New(slog.NewTextHandler(&logs, nil)), Metrics: Metrics{WatchFailures: failures}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := startQuietGate(ln, quietFor, maxQuiet, w, o.watchFailed)
	defer g.Close()

	silent, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer silent.Close()
	require.Eventually(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.quiet) == 1 }, 10*time.Second, time.Millisecond)

	breakWatch(t, w)
	got, err := g.Accept()
	require.NoError(t, err)
	defer got.Close()
	require.Equal(t, silent.LocalAddr().String(), got.RemoteAddr().String(), "passed on once the watch failed")
	require.Equal(t, 1.0, counted(failures))
	require.Contains(t, logs.String(), "socket watch failed")
	require.Contains(t, logs.String(), "watch=\"first bytes\"")

	next, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer next.Close()
	got2, err := g.Accept()
	require.NoError(t, err, "a new connection is passed on at once")
	defer got2.Close()
	require.Equal(t, next.LocalAddr().String(), got2.RemoteAddr().String())
}

// The hang-up watch failing is logged and counted; parked waiters are
// still answered, and parking goes on without the watch.
func TestHangupWatchFailureIsLoggedAndCounted(t *testing.T) {
	var logs syncBuffer
	failures := prometheus.NewCounter(prometheus.CounterOpts{Name: "failures"})
	gen := &generations{ch: make(chan struct{})}
	stop := make(chan struct{})
	tr := New(Options{
		Generation: gen.current,
		Stop:       stop,
		Log:        slog.New(slog.NewTextHandler(&logs, nil)),
		Metrics: Metrics{
			Waiting:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "waiting"}),
			Abandoned:     prometheus.NewCounter(prometheus.CounterOpts{Name: "abandoned"}),
			Release:       prometheus.NewHistogram(prometheus.HistogramOpts{Name: "release"}),
			Answered:      func(int, int) {},
			WatchFailures: failures,
		},
	})
	defer func() { close(stop); <-tr.Drained() }()
	v := &finalAfter{}
	srv, cli := loopbackPair(t)
	tr.Park(srv, v, until(time.Now().Add(time.Hour)), gen.current())
	require.NotNil(t, tr.hub.hang, "no hang-up watch here")

	breakWatch(t, tr.hub.hang)
	require.Eventually(t, func() bool { return counted(failures) == 1 }, 10*time.Second, time.Millisecond)
	require.Contains(t, logs.String(), `watch=hang-ups`)

	srv2, cli2 := loopbackPair(t)
	tr.Park(srv2, v, until(time.Now().Add(time.Hour)), gen.current())
	v.turnFinal()
	gen.change()
	for _, c := range []net.Conn{cli, cli2} {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		resp.Body.Close()
	}
}

// finalAfter is a group of one verdict: waiting until turnFinal, then 200.
type finalAfter struct {
	mu    sync.Mutex
	final bool
}

func (v *finalAfter) turnFinal()                    { v.mu.Lock(); v.final = true; v.mu.Unlock() }
func (v *finalAfter) Key() string                   { return "k" }
func (v *finalAfter) Judge(<-chan struct{}) Verdict { return v }
func (v *finalAfter) Tell(_ Waiter, _ time.Time, closing bool) (int, []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch {
	case v.final:
		return http.StatusOK, Response(http.StatusOK, 0, []byte("{}"))
	case closing:
		return http.StatusServiceUnavailable, Response(http.StatusServiceUnavailable, 1, []byte("{}"))
	}
	return 0, nil
}

type until time.Time

func (u until) Deadline() time.Time { return time.Time(u) }

// generations is a Generation the test changes.
type generations struct {
	mu sync.Mutex
	ch chan struct{}
}

func (g *generations) current() <-chan struct{} { g.mu.Lock(); defer g.mu.Unlock(); return g.ch }
func (g *generations) change() {
	g.mu.Lock()
	close(g.ch)
	g.ch = make(chan struct{})
	g.mu.Unlock()
}

// syncBuffer is a log written from other goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func counted(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}
