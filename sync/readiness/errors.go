package readiness

import (
	"errors"
	"fmt"
)

// ErrTimeout ends a wait that outlived the health timeout; the error
// wrapping it names the objects not ready and why.
var ErrTimeout = errors.New("health timeout")

// FailedError says why a rollout cannot succeed.
type FailedError struct {
	Object Object
	// Reason reads like "pod web-7c9-abc container app: CrashLoopBackOff
	// (back-off restarting failed container)".
	Reason string
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Object.GroupKind.Kind, e.Object.Name, e.Reason)
}
