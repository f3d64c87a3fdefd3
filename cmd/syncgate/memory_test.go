package main

import (
	"runtime/metrics"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func forcedCollections() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

var sink [][]byte

func TestTrimmerReturnsWhatABigCommitFreed(t *testing.T) {
	tr := newTrimmer()
	tr.trim() // what the process holds before the commit
	for range 64 {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil // garbage now, held until a collection
	before, forced := held(), forcedCollections()
	tr.Idle()
	var h uint64
	trimmed := func() bool {
		h = held()
		return forcedCollections() > forced && h+32<<20 < before
	}
	if !assert.Eventually(t, trimmed, 10*time.Second, time.Millisecond) {
		t.Fatalf("held %d MB before, %d MB 10 s after Idle", before>>20, h>>20)
	}
	t.Logf("held %d MB before the trim, %d MB after", before>>20, h>>20)
}
