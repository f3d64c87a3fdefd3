//go:build linux

package transport

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// send writes an answer on a parked connection. The send is a raw system
// call with MSG_DONTWAIT: an answer fits the empty send buffer of a parked
// socket, so the call does not wait for room (it may still take the socket
// lock or allocate briefly), and the Go scheduler is not told of it. Told, it
// hands the writer's P to another thread whenever a send outlasts a
// sysmon tick, and a release of ten thousand sends then spreads over more
// threads than cores. A full buffer (EAGAIN) waits in the poller as
// conn.Write would.
func (p *parked) send(b []byte) error {
	if p.raw == nil {
		_, err := p.conn.Write(b)
		return err
	}
	var errno syscall.Errno
	err := p.raw.Write(func(fd uintptr) bool {
		for len(b) > 0 {
			n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
				unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT, 0, 0)
			switch e {
			case 0:
				b = b[n:]
			case unix.EINTR:
			case unix.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}
