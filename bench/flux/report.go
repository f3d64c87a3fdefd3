package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

// samples are one measure of one tool over the repetitions.
type samples []float64

// median of the samples; NaN-free input assumed, 0 when empty.
func (s samples) median() float64 {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// cell is the median with the range when there are several samples.
func (s samples) cell(unit string) string {
	switch len(s) {
	case 0:
		return "—"
	case 1:
		return format(s[0], unit)
	}
	return fmt.Sprintf("%s (%s–%s)", format(s.median(), unit), trim(slices.Min(s), unit), trim(slices.Max(s), unit))
}

func format(v float64, unit string) string { return trim(v, unit) + " " + unit }

func trim(v float64, unit string) string {
	if unit == "MB" {
		return fmt.Sprintf("%.0f", v)
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	if v >= 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func megabytes(b int64) float64 { return float64(b) / (1 << 20) }

// results hold every measure: measure → column → samples.
type results struct {
	columns  []string
	measures []measure
	data     map[string]map[string]samples
}

type measure struct{ name, unit string }

func newResults(columns []string, measures ...measure) *results {
	return &results{columns: columns, measures: measures, data: map[string]map[string]samples{}}
}

func (r *results) add(measure, column string, v float64) {
	if r.data[measure] == nil {
		r.data[measure] = map[string]samples{}
	}
	r.data[measure][column] = append(r.data[measure][column], v)
}

func (r *results) get(measure, column string) samples { return r.data[measure][column] }

// table writes r as a Markdown table: a row per measure, a column per
// tool, each cell the median and the range over the repetitions.
func (r *results) table(w io.Writer) {
	fmt.Fprintf(w, "| scenario | %s |\n", strings.Join(r.columns, " | "))
	fmt.Fprintf(w, "|---|%s\n", strings.Repeat("---|", len(r.columns)))
	for _, m := range r.measures {
		cells := make([]string, len(r.columns))
		for i, c := range r.columns {
			cells[i] = r.get(m.name, c).cell(m.unit)
		}
		fmt.Fprintf(w, "| %s | %s |\n", m.name, strings.Join(cells, " | "))
	}
}

// ratio is how many times a's median is b's, for the summary lines.
func ratio(a, b samples) string {
	if len(a) == 0 || len(b) == 0 || b.median() == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2fx", a.median()/b.median())
}

// subject is what the run measures against Flux: this tree's agent, or
// the builds of -bin.
func subject(bins []benchenv.Binary) string {
	if len(bins) == 0 {
		return "syncgate (this tree)"
	}
	names := make([]string, len(bins))
	for i, b := range bins {
		names[i] = b.Name
	}
	return "syncgate (builds " + strings.Join(names, ", ") + ")"
}

// reportOne writes scenario one's table, then how each syncgate column
// compares with each Flux column and with the floor.
func (e *env) reportOne(w io.Writer, r *results) {
	fmt.Fprintf(w, "\n%s objects (ConfigMaps, Secrets, Services and 1-replica Deployments in turn) into one namespace; median (min–max) of %d repetitions\n\n",
		benchenv.Thousands(e.o.objects), e.o.reps)
	r.table(w)
	fmt.Fprintln(w)
	of := func(kind string) []tool {
		var out []tool
		for _, name := range e.o.tools {
			if t, _ := toolByName(name); t.kind == kind {
				out = append(out, t)
			}
		}
		return out
	}
	for _, sg := range of("syncgate") {
		for _, fl := range of("flux") {
			if a, b := r.get(mFirst, fl.column), r.get(mFirst, sg.column); len(a) > 0 && len(b) > 0 {
				fmt.Fprintf(w, "- first sync: %s is %s faster than %s; one ConfigMap changed: %s\n",
					sg.column, ratio(a, b), fl.column, ratio(r.get(mChange, fl.column), r.get(mChange, sg.column)))
			}
		}
	}
	for _, floor := range of("floor") {
		if fl := r.get(mFirst, floor.column); len(fl) > 0 {
			for _, name := range e.o.tools {
				if t, _ := toolByName(name); t.kind != "floor" {
					fmt.Fprintf(w, "- %s: first sync takes %s the floor's time and %s its CPU\n", t.column, ratio(r.get(mFirst, t.column), fl), ratio(r.get(mCPU, t.column), r.get(mCPU, floor.column)))
				}
			}
		}
	}
}

// reportMany writes scenario many's table.
func (e *env) reportMany(w io.Writer, r *results) {
	fmt.Fprintf(w, "\n%s namespaces of %s objects; median (min–max) of %d repetitions\n\n",
		benchenv.Thousands(e.o.namespaces), benchenv.Thousands(e.o.perNS), e.o.manyReps)
	r.table(w)
}
