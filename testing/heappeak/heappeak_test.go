package heappeak_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/heappeak"
)

var sink []byte

// A buffer held while fn runs and dropped after is counted at its peak.
func TestMeasureSeesAPeakGone(t *testing.T) {
	peak := heappeak.Measure(t.Name(), 0, func() {
		sink = make([]byte, 32<<20)
		for i := range sink {
			sink[i] = 1
		}
		sink = nil
	})
	require.GreaterOrEqual(t, peak, uint64(32<<20))
	require.Less(t, peak, uint64(64<<20))
}
