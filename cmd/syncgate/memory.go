package main

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// trimmer gives the heap a commit left free back to the system once a
// namespace is idle. Between garbage collections Go keeps the pages a big
// commit freed (render, dry run, the rollout's informers) up to twice the
// heap that was live then, and returns them only slowly: after a sync of
// 1,000 objects the agent held 61 MB of anonymous memory for 16 MB of
// heap in use. A trim is a full collection, so it runs only when the
// process holds more than over beyond what it held after the last trim,
// and at most once per interval: when namespaces finish one after
// another, the last one trims. (The heap live at the last collection is
// no guide: that collection may have run at the commit's peak.)
type trimmer struct {
	over     uint64
	interval time.Duration

	mu      sync.Mutex
	last    time.Time
	pending bool

	trimming sync.Mutex
	base     uint64 // held after the last trim
}

func newTrimmer() *trimmer { return &trimmer{over: 16 << 20, interval: 2 * time.Second} }

// Idle is told that a namespace has nothing more to do for now.
func (t *trimmer) Idle() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending {
		return
	}
	wait := time.Until(t.last.Add(t.interval))
	if wait <= 0 {
		t.last = time.Now()
		go t.trim()
		return
	}
	t.pending = true
	time.AfterFunc(wait, func() {
		t.mu.Lock()
		t.pending, t.last = false, time.Now()
		t.mu.Unlock()
		t.trim()
	})
}

func held() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

func (t *trimmer) trim() {
	t.trimming.Lock()
	defer t.trimming.Unlock()
	if held() > t.base+t.over {
		debug.FreeOSMemory()
		t.base = held()
	}
}
