//go:build !linux

package server

import (
	"errors"
	"syscall"
)

// hangups is Linux only; elsewhere parked clients that leave are noticed
// at their timeout.
type hangups struct{}

func newHangups() (*hangups, error) { return nil, errors.New("hang-up detection needs Linux") }

func (*hangups) watch(syscall.RawConn, uint64) error  { return nil }
func (*hangups) run(<-chan struct{}, func(id uint64)) {}
