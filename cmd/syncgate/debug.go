package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
)

// checkDebugAddr takes only a loopback address: the profiles show the
// heap's contents by type and function, and a CPU profile costs the agent
// what it measures, so they are reached from inside the pod
// (`kubectl port-forward`, or `kubectl exec` with curl), never from the
// network.
func checkDebugAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address (127.0.0.1:6060, [::1]:6060 or localhost:6060)", addr)
	}
	return nil
}

// debugHandler serves Go's profiles under /debug/pprof/ on a mux of its
// own (net/http/pprof also registers on http.DefaultServeMux, which
// nothing serves).
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
