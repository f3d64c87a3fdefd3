package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// loopbackPair is a connected TCP pair: the gateway's end and the client's.
func loopbackPair(t *testing.T) (srv, cli *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	s, err := ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(); s.Close() })
	return s.(*net.TCPConn), c.(*net.TCPConn)
}

func parkedOn(t *testing.T, c *net.TCPConn) *parked {
	t.Helper()
	raw, err := c.SyscallConn()
	require.NoError(t, err)
	return &parked{conn: c, raw: raw}
}

// An answer larger than the socket's send buffer is written whole: the
// send waits for the client to read instead of dropping the rest.
func TestSendWaitsForRoomAndWritesAll(t *testing.T) {
	srv, cli := loopbackPair(t)
	require.NoError(t, srv.SetWriteBuffer(4096))
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, more than both buffers hold
	p := parkedOn(t, srv)
	sent := make(chan error, 1)
	go func() { sent <- p.send(want) }()

	select {
	case err := <-sent:
		t.Fatalf("send returned (%v) before the client read what does not fit", err)
	case <-time.After(100 * time.Millisecond):
	}
	got, err := io.ReadAll(io.LimitReader(cli, int64(len(want))))
	require.NoError(t, err)
	require.NoError(t, <-sent)
	require.True(t, bytes.Equal(want, got), "client read %d bytes, want the %d sent", len(got), len(want))
}

// A client that reset its connection makes send fail with an error, not
// a signal.
func TestSendToResetConnectionFails(t *testing.T) {
	srv, cli := loopbackPair(t)
	require.NoError(t, cli.SetLinger(0))
	require.NoError(t, cli.Close())
	p := parkedOn(t, srv)
	var err error
	require.Eventually(t, func() bool { // the reset may take a moment to arrive
		err = p.send([]byte("HTTP/1.1 200 OK\r\n\r\n"))
		return err != nil
	}, 5*time.Second, 10*time.Millisecond)
	require.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE), "got %v", err)
}
