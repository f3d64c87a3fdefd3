package lifecycle_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status/lifecycle"
)

func TestBoundFromKnowsTheWholeReasonOfABoundedOne(t *testing.T) {
	whole := strings.Repeat("é refused; ", 200)
	for _, n := range []int{20, 21, 100, lifecycle.MaxReason} {
		cut := lifecycle.Bound(whole, n)
		require.LessOrEqual(t, len(cut), n)
		require.True(t, lifecycle.BoundFrom(cut, whole), "n=%d", n)
		require.False(t, lifecycle.BoundFrom(cut, "other "+whole), "n=%d", n)
		require.False(t, lifecycle.BoundFrom(cut, cut), "n=%d", n)
	}
	require.False(t, lifecycle.BoundFrom("short", "short and more"), "not cut")
	require.False(t, lifecycle.BoundFrom(lifecycle.Bound(whole, 100), whole[:50]), "shorter than what was kept")
}
