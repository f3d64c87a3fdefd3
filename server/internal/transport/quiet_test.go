package transport

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Silent connections wait outside net/http, are closed after their quiet
// time, and the oldest make room when too many wait.
func TestQuietGate(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g, err := newQuietGate(ln, 300*time.Millisecond, 10, func(string, error) {})
	if err != nil {
		t.Skipf("no quiet gate here: %v", err)
	}
	defer g.Close()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	closedByServer := func(c net.Conn, within time.Duration) bool {
		_ = c.SetReadDeadline(time.Now().Add(within))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	var silent []net.Conn
	for range 15 {
		silent = append(silent, dial())
	}
	for _, c := range silent[:5] {
		require.True(t, closedByServer(c, time.Second), "the oldest make room")
	}
	require.False(t, closedByServer(silent[14], 50*time.Millisecond), "the newest still wait")

	talker := dial()
	_, err = talker.Write([]byte("GET / HTTP/1.1\r\n"))
	require.NoError(t, err)
	got, err := g.Accept()
	require.NoError(t, err)
	require.Equal(t, talker.LocalAddr().String(), got.RemoteAddr().String(), "only a connection that spoke is passed on")
	got.Close()

	for _, c := range silent[5:] {
		require.True(t, closedByServer(c, 2*time.Second), "closed after their quiet time")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	require.Empty(t, g.quiet)
}
