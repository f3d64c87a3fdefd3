package sandbox

import "errors"

// ErrUnsupported is returned where the process cannot be confined.
var ErrUnsupported = errors.New("sandbox: confinement needs Linux on amd64 or arm64")
