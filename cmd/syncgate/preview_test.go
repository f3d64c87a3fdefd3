package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// `syncgate preview` refuses a --url that can never work as `syncgate wait`
// does: exit 3 at once, not 2 at the timeout.
func TestPreviewRefusesAURLThatCannotWork(t *testing.T) {
	for _, u := range []string{"notaurl", "ftp://example", "http://"} {
		t.Run(u, func(t *testing.T) {
			start := time.Now()
			ex, _, _ := runCmd(t, newPreviewCmd(), strings.Repeat("ab", 20), "--url", u, "--timeout", "30s")
			require.Equal(t, exitUsage, ex.code, ex.msg)
			require.Contains(t, ex.msg, "is not a syncgate URL")
			require.Less(t, time.Since(start), 10*time.Second, "at once, not at the timeout")
		})
	}
}
