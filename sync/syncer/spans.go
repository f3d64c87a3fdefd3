package syncer

import "time"

// spans time the parts of one step of a namespace, logged with the
// commit's outcome: what a commit's latency is made of.
type spans struct {
	render, apply, wait, writing time.Duration
	writes                       int
}

// attrs are the spans as log attributes, in milliseconds.
func (s *spans) attrs() []any {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return []any{"render_ms", ms(s.render), "apply_ms", ms(s.apply), "wait_ms", ms(s.wait),
		"status_writes", s.writes, "status_write_ms", ms(s.writing)}
}
