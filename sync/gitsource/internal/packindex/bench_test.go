package packindex

import (
	"os"
	"testing"

	"github.com/syncgate/syncgate/testing/heappeak"
)

// benchPackEnv names a pack file to index, for BenchmarkIndex: the pack of
// bench/bigrepo's generated repository (under ~/.cache/syncgate/bigrepo)
// holds 470,000 objects.
const benchPackEnv = "PACKINDEX_BENCH_PACK"

// BenchmarkIndex indexes the pack and reports how far the heap grew while
// it did, at its peak, and that per object.
func BenchmarkIndex(b *testing.B) {
	pack := os.Getenv(benchPackEnv)
	if pack == "" {
		b.Skip(benchPackEnv + " names no pack")
	}
	f, err := os.Open(pack)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for b.Loop() {
		var objs *Objects
		peak := heappeak.Measure(b.Name(), 0, func() {
			if objs, _, err = Index(f, b.TempDir(), 16<<20); err != nil {
				b.Fatal(err)
			}
		})
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(peak)/float64(objs.Len()), "heap-B/object")
	}
}
