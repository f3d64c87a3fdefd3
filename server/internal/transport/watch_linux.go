//go:build linux

package transport

import (
	"errors"
	"fmt"
	"sync"
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
func newHangups() (*socketWatch, error) {
	return newSocketWatch(unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR)
}

// newFirstBytes watches new connections for their first bytes (or their
// end), for the admission gate.
func newFirstBytes() (*socketWatch, error) {
	return newSocketWatch(unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR)
}

// socketWatch is a private epoll set reporting each watched socket once,
// by id, when one of its events happens.
type socketWatch struct {
	epfd   int
	events uint32

	mu   sync.RWMutex // watch holds it shared: the set is not closed under it
	done bool         // the set is closed: watch refuses
}

func newSocketWatch(events uint32) (*socketWatch, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &socketWatch{epfd: fd, events: events}, nil
}

// watch adds raw's socket under id; a later event reports id once.
func (w *socketWatch) watch(raw syscall.RawConn, id uint64) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.done {
		return errWatchEnded
	}
	var addErr error
	err := raw.Control(func(fd uintptr) {
		ev := unix.EpollEvent{Events: w.events | unix.EPOLLONESHOT,
			Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
		addErr = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
	})
	return errors.Join(err, addErr)
}

// run reports ids to gone until stop is closed, then releases the
// epoll set. It checks stop at least every pollEvery. A failed wait for
// events (no cause is known short of a bug) ends it: it says why to failed
// and releases the set, and watch then refuses sockets.
func (w *socketWatch) run(stop <-chan struct{}, gone func(id uint64), failed func(error)) {
	defer func() {
		w.mu.Lock()
		w.done = true
		unix.Close(w.epfd)
		w.mu.Unlock()
	}()
	events := make([]unix.EpollEvent, 128)
	for {
		select {
		case <-stop:
			return
		default:
		}
		n, err := unix.EpollWait(w.epfd, events, int(pollEvery/time.Millisecond))
		if err != nil && !errors.Is(err, unix.EINTR) {
			failed(fmt.Errorf("epoll_wait: %w", err))
			return
		}
		for _, ev := range events[:max(n, 0)] {
			gone(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32)
		}
	}
}

const pollEvery = 250 * time.Millisecond

var errWatchEnded = errors.New("the socket watch ended")
