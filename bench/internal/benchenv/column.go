package benchenv

import (
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

// Column is one build's or one scenario's figures: named rows, in the
// order first added.
type Column struct {
	names  []string
	values map[string]string
}

// NewColumn is an empty column.
func NewColumn() *Column { return &Column{values: map[string]string{}} }

// Add sets row name and echoes it to stderr as the run goes.
func (c *Column) Add(name, format string, args ...any) {
	if _, ok := c.values[name]; !ok {
		c.names = append(c.names, name)
	}
	c.values[name] = fmt.Sprintf(format, args...)
	fmt.Fprintf(os.Stderr, "  %s: %s\n", name, c.values[name])
}

// Counted adds a phase's API requests and watches.
func (c *Column) Counted(phase string, n Counts) {
	c.Add(phase+": API requests (reads / writes / dry runs)", "%d (%d / %d / %d)", n.Requests(), n.Reads, n.Writes, n.DryRuns)
	c.Add(phase+": reads of discovery (/api, /apis)", "%d", n.DiscoveryReads)
	c.Add(phase+": watches started / open at most", "%d / %d", n.WatchesStarted, n.WatchesPeak)
}

// PrintColumns prints columns side by side under title, one per heading:
// the rows of every column in the order first seen, "-" where a column has
// none, each column as wide as its widest cell (22 at least).
func PrintColumns(w io.Writer, title string, headings []string, columns []*Column) {
	var names []string
	seen := map[string]bool{}
	out := Table{W: w, NameWidth: 20, CellWidth: 22}
	for _, c := range columns {
		for _, n := range c.names {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
				out.NameWidth = max(out.NameWidth, len([]rune(n)))
			}
			out.CellWidth = max(out.CellWidth, len([]rune(c.values[n])))
		}
	}
	fmt.Fprintf(w, "\n%s\n\n", title)
	out.Head("", headings...)
	for _, name := range names {
		cells := make([]string, len(columns))
		for i, c := range columns {
			v, ok := c.values[name]
			if !ok {
				v = "-"
			}
			cells[i] = v
		}
		out.Row(name, cells...)
	}
}

// Percentiles formats p50 / p99 / max of ds.
func Percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	at := func(p float64) time.Duration { return s[int(float64(len(s)-1)*p+0.5)] }
	return fmt.Sprintf("%s / %s / %s", Ms(at(0.5)), Ms(at(0.99)), Ms(s[len(s)-1]))
}

// Secs is d in seconds to the hundredth.
func Secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
