package transport

import (
	"log/slog"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// Connections that send nothing take no admission slot: with more of them
// waiting than there are slots, the first connection handed on is the one
// that spoke, at once, not after the silent ones' slots expire.
func TestSilentConnectionsTakeNoSlot(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	a := admit(ln, &Options{Log: slog.New(slog.DiscardHandler)})
	if _, gated := a.(*admitting).Listener.(*quietGate); !gated {
		t.Skip("no quiet gate here")
	}
	defer a.Close()
	for range admitSlots + 50 {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		defer c.Close()
	}
	talker, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer talker.Close()
	_, err = talker.Write([]byte("GET /healthz HTTP/1.1\r\n\r\n"))
	require.NoError(t, err)
	got, err := a.Accept()
	require.NoError(t, err)
	defer got.Close()
	require.Equal(t, talker.LocalAddr().String(), got.RemoteAddr().String())
}
