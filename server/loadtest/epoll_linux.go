//go:build linux

package main

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// epollClients run n long polls from one OS thread over non-blocking
// sockets and one epoll set, the way wrk does: a client costs a socket and
// a small buffer, and its answer a read, with no goroutine to wake. codes
// and done are filled per client (-1: failed); answered is called when
// every answer is in, and the sockets are closed after that.
func epollClients(addr string, n int, codes []int, done []time.Time, answered func()) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
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
	req := []byte("GET " + waitPath + " HTTP/1.1\r\nHost: loadtest\r\nUser-Agent: loadtest\r\n\r\n")
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
				in := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i)}
				_ = unix.EpollCtl(ep, unix.EPOLL_CTL_MOD, fd, &in)
			case sent:
				b := bufs[i]
				r, err := unix.Read(fd, b[len(b):cap(b)])
				switch {
				case r > 0:
					bufs[i] = b[:len(b)+r]
					if code, ok := complete(bufs[i]); ok {
						done[i], codes[i], state[i] = time.Now(), code, finished
						left--
						_ = unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, fd, nil)
					} else if len(bufs[i]) == cap(bufs[i]) {
						fail(i)
					}
				case errors.Is(err, unix.EAGAIN):
				default: // closed or failed before a whole answer
					fail(i)
				}
			}
		}
	}
	answered()
	return nil
}
