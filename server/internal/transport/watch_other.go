//go:build !linux

package transport

import (
	"errors"
	"syscall"
)

// socketWatch is Linux only; elsewhere parked clients that leave are
// noticed at their timeout, and new connections are admitted as they come.
type socketWatch struct{}

func newHangups() (*socketWatch, error) { return nil, errors.New("hang-up detection needs Linux") }

func newFirstBytes() (*socketWatch, error) {
	return nil, errors.New("waiting for first bytes outside net/http needs Linux")
}

func (*socketWatch) watch(syscall.RawConn, uint64) error               { return nil }
func (*socketWatch) run(<-chan struct{}, func(id uint64), func(error)) {}
