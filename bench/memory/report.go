package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

// printTable writes one row per figure and one column per tool; objects
// is how many the first sync of scenario one wrote.
func printTable(w io.Writer, objects int, cols []*column) {
	rows := []struct {
		name string
		get  func(c *column) string
	}{
		{"idle, one object deployed: RSS (anon / file)", func(c *column) string { return cell(c.idle) }},
		{"  Go heap in use", func(c *column) string { return heapCell(c.idle) }},
		{"after the first sync of " + benchenv.Thousands(objects) + " objects: RSS (anon / file)", func(c *column) string { return cell(c.synced) }},
		{"  Go heap in use / obtained from the system by then", func(c *column) string { return heapCell(c.synced) }},
		{"small commits: RSS first → last (anon first → last)", func(c *column) string { return trend(c.commits) }},
		{"  after the small commits, settled: RSS (anon / file)", func(c *column) string { return cell(c.after) }},
		{"  peak RSS (VmHWM) by then", func(c *column) string { return peakCell(c.after) }},
		{"many namespaces, all deployed: RSS (anon / file)", func(c *column) string { return cell(c.many) }},
		{"  namespaces × objects", func(c *column) string { return c.manyNote }},
		{"  peak RSS (VmHWM)", func(c *column) string { return peakCell(c.many) }},
		{"scenarios not finished (see the log)", func(c *column) string { return strings.Join(c.failed, ", ") }},
	}
	t := benchenv.Table{W: w, NameWidth: 58, CellWidth: 24}
	for _, r := range rows {
		t.NameWidth = max(t.NameWidth, len([]rune(r.name)))
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	t.Head("MB", names...)
	for _, r := range rows {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = r.get(c)
		}
		t.Row(r.name, cells...)
	}
}

func cell(s sample) string {
	if s.rss == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%s / %s)", mb(s.rss), mb(s.anon), mb(s.file))
}

func peakCell(s sample) string {
	if s.rss == 0 {
		return "-"
	}
	return mb(s.peak)
}

func heapCell(s sample) string {
	if s.rss == 0 || s.heap < 0 {
		return "-"
	}
	if s.heapSys < 0 {
		return mb(s.heap)
	}
	return mb(s.heap) + " / " + mb(s.heapSys)
}

func trend(ss []sample) string {
	if len(ss) == 0 {
		return "-"
	}
	a, z := ss[0], ss[len(ss)-1]
	return fmt.Sprintf("%s → %s (%s → %s), %d commits", mb(a.rss), mb(z.rss), mb(a.anon), mb(z.anon), len(ss))
}

// printCommits writes the memory after every every-th small commit, and
// a sparkline each of the total, anonymous and file RSS over all of them
// (one mark per commit, or per group of commits when there are more
// than 100), each over its own range, printed beside it.
func printCommits(w io.Writer, c *column, every int) {
	if len(c.commits) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s, RSS after each small commit (MB):\n\n| commit | RSS | anon | file | Go heap |\n|---|---|---|---|---|\n", c.name)
	for i, s := range c.commits {
		if (i+1)%every == 0 || i == 0 || i == len(c.commits)-1 {
			fmt.Fprintf(w, "| %d | %s | %s | %s | %s |\n", i+1, mb(s.rss), mb(s.anon), mb(s.file), mb(s.heap))
		}
	}
	width := min(len(c.commits), 100)
	fmt.Fprintf(w, "\n%s, per commit 1–%d (%d commits a mark):\n", c.name, len(c.commits), (len(c.commits)+width-1)/width)
	for _, m := range []measure{{"RSS ", rssOf}, {"anon", anonOf}, {"file", fileOf}} {
		vs := m.series(c.commits)
		lo, hi := span(vs)
		fmt.Fprintf(w, "  %s %s  %.0f–%.0f MB\n", m.name, sparkline(vs, 100), lo, hi)
	}
	from := slopeFrom
	if len(c.commits) < 2*slopeFrom {
		from = len(c.commits) / 2 // a short run: its second half
	}
	fmt.Fprintf(w, "\n%s, least-squares slope over commits %d–%d, MB per 100 commits:", c.name, from+1, len(c.commits))
	for _, m := range []measure{{"RSS", rssOf}, {"anon", anonOf}, {"Go heap", heapInUse}} {
		fmt.Fprintf(w, " %s %+.2f", m.name, 100*slope(m.series(c.commits[from:])))
	}
	fmt.Fprintln(w)
}

// measure is one figure of a sample, named.
type measure struct {
	name string
	of   func(sample) int64
}

func rssOf(s sample) int64     { return s.rss }
func anonOf(s sample) int64    { return s.anon }
func fileOf(s sample) int64    { return s.file }
func heapInUse(s sample) int64 { return s.heap }

// series is the figure of each sample, in MB.
func (m measure) series(ss []sample) []float64 {
	vs := make([]float64, len(ss))
	for i, s := range ss {
		vs[i] = float64(m.of(s)) / (1 << 20)
	}
	return vs
}

// slopeFrom is where the slope starts: by then the agent's caches are
// full (about commit 250 of one ConfigMap of 1,000 changed each).
const slopeFrom = 250

// slope is the least-squares slope of vs over their indices, per index.
func slope(vs []float64) float64 {
	n := float64(len(vs))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i, v := range vs {
		x := float64(i)
		sx, sy, sxx, sxy = sx+x, sy+v, sxx+x*x, sxy+x*v
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

// sparkline draws vs in at most width marks, each the mean of its group.
func sparkline(vs []float64, width int) string {
	marks := []rune("▁▂▃▄▅▆▇█")
	group := (len(vs) + width - 1) / width
	var means []float64
	for i := 0; i < len(vs); i += group {
		end := min(i+group, len(vs))
		sum := 0.0
		for _, v := range vs[i:end] {
			sum += v
		}
		means = append(means, sum/float64(end-i))
	}
	lo, hi := span(means)
	var b strings.Builder
	for _, m := range means {
		k := 0
		if hi > lo {
			k = int((m - lo) / (hi - lo) * float64(len(marks)-1))
		}
		b.WriteRune(marks[k])
	}
	return b.String()
}

func span(vs []float64) (lo, hi float64) {
	lo, hi = vs[0], vs[0]
	for _, v := range vs {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}
