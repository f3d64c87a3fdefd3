package transport

import (
	"net"
	"net/http"
	"time"
)

// Take takes an HTTP/1.x request's connection from net/http, to be parked:
// false when it cannot be taken (HTTP/2, test recorders), and the request
// is then answered by its handler as usual.
func Take(w http.ResponseWriter, r *http.Request) (net.Conn, bool) {
	if r.ProtoMajor != 1 {
		return nil, false
	}
	// Ask the connection underneath: a wrapping writer (gin's) may claim
	// Hijack always and count the response as started when it fails.
	if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		if _, ok := u.Unwrap().(http.Hijacker); !ok {
			return nil, false
		}
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, false
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return nil, false
	}
	if ac, ok := conn.(*admittedConn); ok { // admitted when its handler began
		conn = ac.Conn // the socket itself, for raw sends and the hang-up watch
	}
	// The server's read and write deadlines stay on a hijacked connection.
	_ = conn.SetDeadline(time.Time{})
	return conn, true
}
