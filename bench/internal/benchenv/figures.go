package benchenv

import (
	"fmt"
	"strings"
	"time"
)

// Ms is d in whole milliseconds, as the tables print it.
func Ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

// Pct is the p-th quantile (0 to 1) of sorted, the nearest rank below.
func Pct(sorted []time.Duration, p float64) time.Duration {
	return sorted[int(float64(len(sorted)-1)*p)]
}

// Dashes is a table's rule of n dashes.
func Dashes(n int) string { return strings.Repeat("-", n) }
