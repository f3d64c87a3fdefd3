package proc

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCPUCountsWhatTheProcessUsed(t *testing.T) {
	before, err := CPU(os.Getpid())
	require.NoError(t, err)
	// Work until the process's own clock says 200 ms of CPU went by.
	sum := sha256.Sum256(nil)
	start := time.Now()
	for cpu := before; cpu-before < 200*time.Millisecond; {
		for range 100000 {
			sum = sha256.Sum256(sum[:])
		}
		cpu, err = CPU(os.Getpid())
		require.NoError(t, err)
		require.Less(t, time.Since(start), time.Minute, "CPU did not move")
	}
	_, err = CPU(1 << 30)
	require.Error(t, err, "no such process")
}
