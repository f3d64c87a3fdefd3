package render

import (
	"errors"
	"fmt"
)

// Refusal reasons, matched with errors.Is.
var (
	ErrNoConfig      = errors.New("no configuration for the namespace")
	ErrForeignNS     = errors.New("namespace is not managed")
	ErrClusterScoped = errors.New("cluster-scoped objects are not allowed")
	ErrUnknownKind   = errors.New("unknown kind")
	ErrInvalid       = errors.New("invalid")
	ErrTooLarge      = errors.New("too large")
	ErrTooMany       = errors.New("too many objects")
	ErrDuplicate     = errors.New("duplicate object")
	ErrRemoteBase    = errors.New("remote bases are not allowed")
	ErrPinTarget     = errors.New("image pin has no target")
)

// Error is a refusal about one file and, when known, one object in it.
type Error struct {
	File   string
	Object string // Kind "name"
	Err    error
}

func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Object != "":
		return fmt.Sprintf("%s: %s: %v", e.File, e.Object, e.Err)
	case e.File != "":
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	case e.Object != "":
		return fmt.Sprintf("%s: %v", e.Object, e.Err)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func fileErr(file string, err error) error { return &Error{File: file, Err: err} }
