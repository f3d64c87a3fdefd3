package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

func TestMedianOddEvenAndEmpty(t *testing.T) {
	for _, c := range []struct {
		in   samples
		want float64
	}{
		{nil, 0},
		{samples{3}, 3},
		{samples{9, 1, 5}, 5},
		{samples{4, 1, 3, 2}, 2.5},
	} {
		if got := c.in.median(); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	s := samples{3, 1, 2}
	s.median()
	if s[0] != 3 {
		t.Error("median reordered its samples")
	}
}

func TestTableHasMedianAndRangePerColumn(t *testing.T) {
	r := newResults([]string{"Flux", "syncgate"}, measure{"first sync", "s"}, measure{"RSS afterwards", "MB"})
	for _, v := range []float64{34.3, 30.1, 40.0} {
		r.add("first sync", "Flux", v)
	}
	r.add("first sync", "syncgate", 1.184)
	r.add("RSS afterwards", "syncgate", 123.4)
	var b bytes.Buffer
	r.table(&b)
	want := strings.Join([]string{
		"| scenario | Flux | syncgate |",
		"|---|---|---|",
		"| first sync | 34.3 s (30.1–40.0) | 1.18 s |",
		"| RSS afterwards | — | 123 MB |",
		"",
	}, "\n")
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	if got := ratio(r.get("first sync", "Flux"), r.get("first sync", "syncgate")); got != "28.97x" {
		t.Errorf("ratio = %s", got)
	}
}

// The heading says how many objects the run synced, and with -bin every
// build's syncgate columns are compared with Flux's and with the floor.
func TestReportOneNamesTheObjectsAndComparesEachBuild(t *testing.T) {
	saved := allTools
	t.Cleanup(func() { allTools = saved })
	e := &env{o: options{objects: 1001, reps: 1}}
	bins := []benchenv.Binary{{Name: "before", Path: "/a"}, {Name: "after", Path: "/b"}}
	allTools, e.o.tools = perBinary(allTools, []string{"flux", "syncgate", "floor"}, bins)
	r := newResults(e.columns(""), measure{mFirst, "s"}, measure{mChange, "s"}, measure{mCPU, "s"})
	for column, v := range map[string]float64{
		"Flux, defaults": 40, "syncgate, defaults (before)": 20, "syncgate, defaults (after)": 10, "bare bulk create (floor)": 5,
	} {
		r.add(mFirst, column, v)
		r.add(mChange, column, v/10)
		r.add(mCPU, column, v*3)
	}
	var b strings.Builder
	e.reportOne(&b, r)
	out := b.String()
	require.Contains(t, out, "\n1,001 objects (ConfigMaps, Secrets, Services and 1-replica Deployments in turn) into one namespace; median (min–max) of 1 repetitions\n")
	require.Contains(t, out, "- first sync: syncgate, defaults (before) is 2.00x faster than Flux, defaults; one ConfigMap changed: 2.00x\n")
	require.Contains(t, out, "- first sync: syncgate, defaults (after) is 4.00x faster than Flux, defaults; one ConfigMap changed: 4.00x\n")
	require.Contains(t, out, "- syncgate, defaults (after): first sync takes 2.00x the floor's time and 2.00x its CPU\n")
}

func TestRunNamesTheBuildsMeasured(t *testing.T) {
	require.Equal(t, "syncgate (this tree)", subject(nil))
	require.Equal(t, "syncgate (builds before, after)", subject([]benchenv.Binary{{Name: "before"}, {Name: "after"}}))
}
