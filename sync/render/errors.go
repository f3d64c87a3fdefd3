package render

import (
	"errors"
	"fmt"
	"io/fs"
)

// Refusal reasons, matched with errors.Is. Each comes wrapped in an *Error
// naming the file and object.
var (
	ErrNoConfig      = errors.New("no configuration for the namespace")
	ErrForeignNS     = errors.New("namespace is not managed")
	ErrClusterScoped = errors.New("cluster-scoped objects are not allowed")
	ErrUnknownKind   = errors.New("unknown kind")
	ErrInvalid       = errors.New("invalid")
	ErrTooLarge      = errors.New("too large")
	ErrTooMany       = errors.New("too many")
	ErrDuplicate     = errors.New("duplicate object")
	ErrRemoteBase    = errors.New("remote references are not allowed")
	ErrBuild         = errors.New("kustomize build failed")
	ErrPinTarget     = errors.New("image pin has no target")
	ErrDecrypt       = errors.New("cannot decrypt")
)

// ErrBuildTimedOut is a kustomize build that ran past Limits.BuildWallTime
// with processor time left: the machine was too busy to run it, or the
// process was stuck. It is not a refusal (no *Error wraps it): the same
// commit may build on a retry.
var ErrBuildTimedOut = errors.New("the kustomize build timed out")

// Error is a refusal of the commit's content: what is wrong, in which file
// and, when there is one, which object ("Deployment \"web\""). Errors that
// are not *Error (a Scoper that could not answer) are not about the commit
// and may pass on a retry.
type Error struct {
	File   string
	Object string
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

// reason is a sentinel with a message about the case at hand: its text is
// the message alone, and errors.Is still finds the sentinel.
type reason struct {
	kind error
	msg  string
}

func (r *reason) Error() string { return r.msg }
func (r *reason) Unwrap() error { return r.kind }

func because(kind error, format string, args ...any) error {
	return &reason{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// fileErr names the file; an fs.PathError's own path is dropped, since the
// file already says it. The result is a refusal (*Error) when the fault is
// the commit's: a reason of this package, or a path the commit's tree does
// not have or cannot serve (fs.ErrNotExist, fs.ErrInvalid). Any other
// error is a failure to read the repository, which may pass on a retry.
func fileErr(file string, err error) error {
	var r *reason
	if !errors.As(err, &r) && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrInvalid) {
		return fmt.Errorf("%s: %w", file, err)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == file {
		err = pe.Err
	}
	return &Error{File: file, Err: err}
}

func objectErr(file, object string, err error) error {
	return &Error{File: file, Object: object, Err: err}
}
