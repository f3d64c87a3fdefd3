package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// listeners are the sockets syncgate serves on, bound at start before
// anything slow (the API server's discovery may be asked again for 30 s),
// so that an address in use stops start-up at once, in one line.
type listeners struct {
	main   net.Listener
	probes net.Listener // nil: no listener of their own (PROBE_ADDR empty or LISTEN_ADDR's address)
	debug  net.Listener // nil: DEBUG_ADDR off
}

// listen binds LISTEN_ADDR, PROBE_ADDR and DEBUG_ADDR; an address that
// cannot be bound is an invalid setting.
func listen(cfg *config) (*listeners, error) {
	l := &listeners{}
	for _, b := range []struct {
		ln   *net.Listener
		addr *string
		on   bool
	}{
		{&l.main, &cfg.ListenAddr, true},
		{&l.probes, &cfg.ProbeAddr, cfg.ProbeAddr != "" && !sameListenAddr(cfg.ProbeAddr, cfg.ListenAddr)},
		{&l.debug, &cfg.DebugAddr, cfg.DebugAddr != ""},
	} {
		if !b.on {
			continue
		}
		ln, err := net.Listen("tcp", *b.addr)
		if err != nil {
			l.close()
			return nil, cfg.invalid(b.addr, "%v", err)
		}
		*b.ln = ln
	}
	return l, nil
}

// sameListenAddr tells whether two host:port addresses name the same
// socket, however written: the same port (leading zeros aside) and hosts
// that are both every interface (empty, 0.0.0.0, ::, which Go binds alike),
// the same IP, or the same name (case aside; names are not resolved).
func sameListenAddr(a, b string) bool {
	hostA, portA, errA := net.SplitHostPort(a)
	hostB, portB, errB := net.SplitHostPort(b)
	if errA != nil || errB != nil {
		return a == b
	}
	nA, errA := strconv.ParseUint(portA, 10, 16)
	nB, errB := strconv.ParseUint(portB, 10, 16)
	if errA != nil || errB != nil {
		return a == b
	}
	return nA == nB && listenHost(hostA) == listenHost(hostB)
}

// listenHost is host as sameListenAddr compares it: "" for every
// interface, an IP in its canonical form, a name in lower case.
func listenHost(host string) string {
	ip := net.ParseIP(host)
	switch {
	case host == "" || ip != nil && ip.IsUnspecified():
		return ""
	case ip != nil:
		return ip.String()
	}
	return strings.ToLower(host)
}

// close closes what listen bound, for when start-up stops before serving.
func (l *listeners) close() {
	for _, ln := range []net.Listener{l.main, l.probes, l.debug} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}

// serveDebug serves debugHandler on ln until ctx ends.
func serveDebug(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("debug listener: %w", err)
	}
	return nil
}
