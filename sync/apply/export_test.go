package apply

import (
	"testing"
	"time"
)

// ServedAgainWithin sets how long Owned waits for discovery to agree with
// LISTs answered 404, for t.
func ServedAgainWithin(t *testing.T, d time.Duration) {
	was := servedAgainWithin
	servedAgainWithin = d
	t.Cleanup(func() { servedAgainWithin = was })
}
