package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDebugAddrIsLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:6060", "127.0.0.1:0"} {
		require.NoError(t, checkDebugAddr(addr), addr)
	}
	for _, addr := range []string{":6060", "0.0.0.0:6060", "[::]:6060", "10.1.2.3:6060", "example.com:6060", "6060"} {
		require.Error(t, checkDebugAddr(addr), addr)
	}
}

func TestDebugHandlerServesAHeapProfileAfterACollection(t *testing.T) {
	rec := httptest.NewRecorder()
	debugHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/heap?gc=1", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/octet-stream", rec.Header().Get("Content-Type"))
	require.NotEmpty(t, rec.Body.Bytes())
}
