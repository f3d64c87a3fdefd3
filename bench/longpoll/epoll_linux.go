//go:build linux

package main

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// epollClients run n long polls from one OS thread over non-blocking
// sockets and one epoll set, the way wrk does: a client costs a socket and
// a small buffer, and its answer a read, with no goroutine to wake. codes,
// done and arrived are filled per client: codes with the status (-1 for a
// failed client), done when the answer was read whole, arrived when its
// last byte reached the socket (the kernel's receive timestamp; on
// loopback that is during the gateway's send). answered is called when
// every answer is in, and the sockets are closed after that.
//
// With idle, the thread runs under SCHED_IDLE: it gets a core only when
// the gateway leaves one free, as clients on other machines would, so
// arrived measures the gateway rather than the two sharing two cores.
func epollClients(addr string, n int, idle bool, codes []int, done, arrived []time.Time, answered func()) error {
	runtime.LockOSThread()
	if idle {
		// The thread is not unlocked: it ends with this goroutine instead
		// of going back to the runtime with its lowered priority.
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}
		if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
			return fmt.Errorf("SCHED_IDLE: %w", err)
		}
	} else {
		defer runtime.UnlockOSThread()
	}
	tcp, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return err
	}
	sa := &unix.SockaddrInet4{Port: tcp.Port}
	copy(sa.Addr[:], tcp.IP.To4())
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	defer unix.Close(ep)

	const (
		connecting = iota
		sent
		finished
	)
	req := []byte(waitRequest)
	fds := make([]int, n)
	state := make([]int, n)
	bufs := make([][]byte, n)
	defer func() {
		for _, fd := range fds {
			if fd > 0 {
				_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
				unix.Close(fd)
			}
		}
	}()
	for i := range n {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("socket %d: %w", i, err)
		}
		fds[i] = fd
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
			return fmt.Errorf("receive timestamps: %w", err)
		}
		if err := unix.Connect(fd, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
			return fmt.Errorf("connect %d: %w", i, err)
		}
		ev := unix.EpollEvent{Events: unix.EPOLLOUT, Fd: int32(i)}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return err
		}
		bufs[i] = make([]byte, 0, 512)
	}
	left := n
	fail := func(i int) {
		codes[i], state[i] = -1, finished
		left--
		_ = unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, fds[i], nil)
	}
	events := make([]unix.EpollEvent, 256)
	oob := make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))))
	for left > 0 {
		k, err := unix.EpollWait(ep, events, 120_000)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if k == 0 {
			return fmt.Errorf("no progress in 2 minutes with %d answers missing", left)
		}
		for _, ev := range events[:k] {
			i := int(ev.Fd)
			fd := fds[i]
			switch state[i] {
			case connecting: // connected or refused: send the request
				if soErr, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); soErr != 0 {
					fail(i)
					continue
				}
				if _, err := unix.Write(fd, req); err != nil {
					fail(i)
					continue
				}
				state[i] = sent
				// One-shot: a finished socket needs no removal; one whose
				// answer came in parts is armed again.
				in := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(i)}
				_ = unix.EpollCtl(ep, unix.EPOLL_CTL_MOD, fd, &in)
			case sent:
				b := bufs[i]
				r, oobn, _, _, err := unix.Recvmsg(fd, b[len(b):cap(b)], oob, 0)
				switch {
				case r > 0:
					bufs[i] = b[:len(b)+r]
					if code, ok := complete(bufs[i]); ok {
						done[i], codes[i], state[i] = time.Now(), code, finished
						arrived[i] = rxTime(oob[:oobn])
						left--
						continue
					}
					if len(bufs[i]) == cap(bufs[i]) {
						fail(i)
						continue
					}
					fallthrough
				case errors.Is(err, unix.EAGAIN):
					in := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(i)}
					_ = unix.EpollCtl(ep, unix.EPOLL_CTL_MOD, fd, &in)
				default: // closed or failed before a whole answer
					fail(i)
				}
			}
		}
	}
	answered()
	return nil
}

// rxTime is the receive timestamp in a recvmsg's control data, or the zero
// time.
func rxTime(oob []byte) time.Time {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
			return time.Unix(ts.Unix())
		}
	}
	return time.Time{}
}
