package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSlopeIsMBPerCommit(t *testing.T) {
	for _, tc := range []struct {
		name string
		vs   []float64
		want float64
	}{
		{"flat", []float64{50, 50, 50, 50}, 0},
		{"a band around a level", []float64{40, 60, 40, 60, 60, 40, 60, 40}, 0},
		{"rising 0.05 MB a commit", []float64{50, 50.05, 50.1, 50.15, 50.2}, 0.05},
		{"falling", []float64{60, 58, 56}, -2},
		{"one point", []float64{50}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.InDelta(t, tc.want, slope(tc.vs), 1e-9)
		})
	}
}

// The table names the count of objects the run synced, not the default's.
func TestTableSaysTheObjectsSynced(t *testing.T) {
	var b strings.Builder
	col := &column{name: "syncgate", synced: sample{rss: 60 << 20, anon: 20 << 20, file: 40 << 20, heap: -1}}
	printTable(&b, 2500, []*column{col})
	require.Contains(t, b.String(), "| after the first sync of 2,500 objects: RSS (anon / file)")
	require.Contains(t, b.String(), "| 60 (20 / 40) ")
	require.NotContains(t, b.String(), "1,000")
}
