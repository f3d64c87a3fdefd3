package outbox

import (
	"math"
	"time"
)

// Backoff paces retries of one sink after transient failures.
type Backoff struct {
	// Initial is the delay after the first failure (default 1s).
	Initial time.Duration
	// Max caps the delay (default 5m).
	Max time.Duration
	// Factor multiplies the delay after each further failure (default 2).
	Factor float64
	// Jitter spreads each delay by ±Jitter of itself (default 0.2).
	Jitter float64
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = time.Second
	}
	if b.Max <= 0 {
		b.Max = 5 * time.Minute
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Factor < 1 {
		b.Factor = 2
	}
	if b.Jitter < 0 || b.Jitter >= 1 {
		b.Jitter = 0
	} else if b.Jitter == 0 {
		b.Jitter = 0.2
	}
	return b
}

// Delay is the wait after failure number n (0 for the first), given r drawn
// uniformly from [0, 1) for the jitter; it never exceeds Max.
func (b Backoff) Delay(n int, r float64) time.Duration {
	d := float64(b.Initial) * math.Pow(b.Factor, float64(max(n, 0)))
	d = min(d, float64(b.Max))
	d *= 1 + b.Jitter*(2*r-1)
	return min(time.Duration(d), b.Max)
}
