//go:build linux

package server

import (
	"errors"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// hangups tells which parked connections their clients closed, so a
// cancelled CI job's long poll frees its socket at once instead of at its
// timeout. The Go runtime offers no readiness event without a goroutine
// blocked in Read per connection, so the parked sockets are also put in an
// epoll set of their own, watched for the peer's FIN or reset only: data a
// client sends while waiting does not wake it. A socket leaves the set when
// it is closed.
type hangups struct {
	epfd int
}

func newHangups() (*hangups, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &hangups{epfd: fd}, nil
}

// watch adds raw's socket under id; a later hang-up reports id once.
func (w *hangups) watch(raw syscall.RawConn, id uint64) error {
	var addErr error
	err := raw.Control(func(fd uintptr) {
		ev := unix.EpollEvent{Events: unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR | unix.EPOLLONESHOT,
			Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
		addErr = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
	})
	return errors.Join(err, addErr)
}

// run reports hung-up ids to gone until stop is closed, then releases the
// epoll set. It checks stop at least every pollEvery.
func (w *hangups) run(stop <-chan struct{}, gone func(id uint64)) {
	defer unix.Close(w.epfd)
	events := make([]unix.EpollEvent, 128)
	for {
		select {
		case <-stop:
			return
		default:
		}
		n, err := unix.EpollWait(w.epfd, events, int(pollEvery/time.Millisecond))
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		for _, ev := range events[:max(n, 0)] {
			gone(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32)
		}
	}
}

const pollEvery = 250 * time.Millisecond
