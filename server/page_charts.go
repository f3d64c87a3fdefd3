package server

import (
	"fmt"
	"math"
	"time"

	"github.com/syncgate/syncgate/server/internal/markup"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/measures"
)

// measuresView is a namespace's four delivery measures: a headline figure
// and a small inline SVG chart each.
type measuresView struct {
	LeadTime, Frequency, FailureRate, Restore             string
	LeadNote, FrequencyNote, FailureNote, RestoreNote     string
	LeadChart, FrequencyChart, FailureChart, RestoreChart markup.Fragment
}

// chartBars is how many of the newest samples a chart shows.
const chartBars = 20

func (s *Server) measuresView(m measures.Measures) measuresView {
	var v measuresView
	v.LeadTime, v.LeadNote = "–", "no deployed commit with a known commit time"
	if med, ok := measures.Median(m.LeadTimes); ok {
		v.LeadTime = roundDuration(med)
		v.LeadNote = fmt.Sprintf("median of %d commits, commit to deployed", len(m.LeadTimes))
	}
	v.LeadChart = barChart("lead time per commit", samplesBars(m.LeadTimes, "deployed"))

	v.Frequency = fmt.Sprintf("%.1f/day", m.DeploysPerDay())
	var days []bar
	for _, d := range m.Days {
		days = append(days, bar{Title: fmt.Sprintf("%s: %d deployed, %d failed", d.Date.Format("Mon 2 Jan"), d.Deployed, d.Failed),
			Segments: []segment{{float64(d.Deployed), "deployed"}, {float64(d.Failed), "failed"}}})
	}
	v.FrequencyNote = fmt.Sprintf("deployments over the last %d days", measures.Window)
	v.FrequencyChart = barChart("deployments and failures per day", days)

	v.FailureRate, v.FailureNote = "–", "no attempt recorded"
	if n := m.Deployed + m.Failed; n > 0 {
		v.FailureRate = fmt.Sprintf("%.0f%%", 100*m.ChangeFailureRate())
		v.FailureNote = fmt.Sprintf("%d failed of %d attempts", m.Failed, n)
	}
	v.FailureChart = ratioChart(m.ChangeFailureRate(), m.Deployed+m.Failed > 0)

	v.Restore, v.RestoreNote = "–", "no failure followed by a deployment"
	if med, ok := measures.Median(m.Restores); ok {
		v.Restore = roundDuration(med)
		v.RestoreNote = fmt.Sprintf("median of %d recoveries, failure to next deployment", len(m.Restores))
	}
	if m.Failing {
		v.RestoreNote += "; failing now"
	}
	v.RestoreChart = barChart("time to restore per failure", samplesBars(m.Restores, "restore"))
	return v
}

func roundDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "<1s" // Versions record times to the second
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Second:
		return d.Round(time.Second).String()
	}
	return status.FormatDuration(d)
}

type segment struct {
	Value float64
	Class string
}

type bar struct {
	Title    string
	Segments []segment
}

func samplesBars(samples []measures.Sample, class string) []bar {
	if len(samples) > chartBars {
		samples = samples[len(samples)-chartBars:]
	}
	out := make([]bar, 0, len(samples))
	for _, s := range samples {
		out = append(out, bar{Title: status.ShortSHA(s.SHA) + ": " + roundDuration(s.Value),
			Segments: []segment{{s.Value.Seconds(), class}}})
	}
	return out
}

const chartW, chartH = 220, 56

// barChart draws bars of stacked segments from a common baseline, scaled
// to the tallest; each bar's title shows on hover.
func barChart(label string, bars []bar) markup.Fragment {
	var b markup.Writer
	b.Printf(`<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, chartW, chartH, chartW, chartH, label)
	b.Printf(`<line class="axis" x1="0" y1="%d" x2="%d" y2="%d"/>`, chartH-1, chartW, chartH-1)
	top := 0.0
	for _, br := range bars {
		sum := 0.0
		for _, s := range br.Segments {
			sum += s.Value
		}
		top = math.Max(top, sum)
	}
	if len(bars) == 0 {
		b.Printf(`<text class="empty" x="%d" y="%d">no data yet</text></svg>`, chartW/2, chartH/2+4)
		return b.Fragment()
	}
	if top == 0 {
		top = 1 // all zero (times recorded to the second): bars of the least height
	}
	slot := float64(chartW) / float64(max(len(bars), 7))
	width := math.Max(slot-3, 2)
	for i, br := range bars {
		x := float64(i) * slot
		y := float64(chartH - 1)
		b.Printf(`<g><title>%s</title>`, br.Title)
		for _, s := range br.Segments {
			if s.Value < 0 || (s.Value == 0 && len(br.Segments) > 1) {
				continue
			}
			h := math.Max(s.Value/top*float64(chartH-6), 2)
			y -= h
			b.Printf(`<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="1.5"/>`, s.Class, x, y, width, h)
		}
		b.Printf(`<rect class="hit" x="%.1f" y="0" width="%.1f" height="%d"/></g>`, x, width, chartH)
	}
	b.HTML(`</svg>`)
	return b.Fragment()
}

// ratioChart draws the failure share of attempts as a ring.
func ratioChart(failed float64, some bool) markup.Fragment {
	const r = 22.0
	c := 2 * math.Pi * r
	var b markup.Writer
	b.Printf(`<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="change failure rate">`, chartW, chartH, chartW, chartH)
	if !some {
		b.Printf(`<text class="empty" x="%d" y="%d">no data yet</text></svg>`, chartW/2, chartH/2+4)
		return b.Fragment()
	}
	b.Printf(`<circle class="ring deployed" cx="28" cy="28" r="%.0f"/>`, r)
	if failed > 0 {
		b.Printf(`<circle class="ring failed" cx="28" cy="28" r="%.0f" stroke-dasharray="%.2f %.2f" transform="rotate(-90 28 28)"/>`, r, failed*c, c)
	}
	b.Printf(`<text class="legend" x="62" y="24"><tspan class="failed-text">■</tspan> failed %.0f%%</text>`, 100*failed)
	b.Printf(`<text class="legend" x="62" y="42"><tspan class="deployed-text">■</tspan> deployed %.0f%%</text></svg>`, 100*(1-failed))
	return b.Fragment()
}
