// Package heappeak measures how far the Go heap grows while a function
// runs, at its peak, for tests and benchmarks that bound what an operation
// holds at once (the runtime keeps no high-water mark of its heap).
package heappeak

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Measure runs fn and returns how far the heap (runtime.MemStats
// HeapAlloc, sampled every millisecond) grew above where it was after a
// collection before. A growth past limit (0: none) panics, naming name:
// the machine running the tests is not to be taken down.
func Measure(name string, limit uint64, fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
				peak.Store(ms.HeapAlloc - base)
			}
			if limit > 0 && peak.Load() > limit {
				panic(fmt.Sprintf("%s: the heap grew by %d MiB, past %d MiB: stopping", name, peak.Load()>>20, limit>>20))
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}
