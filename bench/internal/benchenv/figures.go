package benchenv

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Ms is d in whole milliseconds, as the tables print it.
func Ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

// Pct is the p-th quantile (0 to 1) of sorted, the nearest rank below.
func Pct(sorted []time.Duration, p float64) time.Duration {
	return sorted[int(float64(len(sorted)-1)*p)]
}

// Thousands is n with its thousands separated by commas, as the tables
// write counts: 1,000.
func Thousands(n int) string {
	s := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return sign + s
}

// Dashes is a table's rule of n dashes.
func Dashes(n int) string { return strings.Repeat("-", n) }

// Table prints a Markdown table, padded to read as text too: a first
// column of row names NameWidth wide, then one column CellWidth wide per
// build or tool.
type Table struct {
	W                    io.Writer
	NameWidth, CellWidth int
}

// Head prints the header row, name over the row names and cols over the
// columns, and the rule under it.
func (t Table) Head(name string, cols ...string) {
	t.Row(name, cols...)
	fmt.Fprintf(t.W, "|%s|", Dashes(t.NameWidth+2))
	for range cols {
		fmt.Fprintf(t.W, "%s|", Dashes(t.CellWidth+2))
	}
	fmt.Fprintln(t.W)
}

// Row prints one row.
func (t Table) Row(name string, cells ...string) {
	fmt.Fprintf(t.W, "| %-*s |", t.NameWidth, name)
	for _, c := range cells {
		fmt.Fprintf(t.W, " %-*s |", t.CellWidth, c)
	}
	fmt.Fprintln(t.W)
}
