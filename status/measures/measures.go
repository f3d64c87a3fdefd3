package measures

import (
	"slices"
	"sort"
	"time"
)

// Outcome is a recorded commit's final fate.
type Outcome int

// Outcomes that count.
const (
	// Deployed: the commit's own rollout became Ready.
	Deployed Outcome = iota + 1
	// Failed: the commit's own attempt failed (render, apply or rollout).
	Failed
	// Carried: a newer commit superseded it and was deployed, which put
	// this one in production too: its lead time counts, not as a deployment.
	Carried
)

// Change is one recorded commit with a final outcome.
type Change struct {
	SHA     string
	Outcome Outcome
	// Committed is the commit's time in git; zero when unknown (its lead
	// time is then not counted).
	Committed time.Time
	// Finished is when the outcome was reached.
	Finished time.Time
}

// Sample is one measured duration.
type Sample struct {
	SHA   string
	At    time.Time // when it ended
	Value time.Duration
}

// Day counts the attempts that ended on one UTC day.
type Day struct {
	Date             time.Time
	Deployed, Failed int
}

// Measures are a namespace's four measures over its recorded commits.
type Measures struct {
	// LeadTimes holds one sample per commit that reached production
	// (deployed or carried by a deployed one), oldest first.
	LeadTimes []Sample
	// Days counts deployments and failures for each of the last Window
	// days, today last.
	Days []Day
	// Deployed and Failed count the commits' own attempts recorded.
	Deployed, Failed int
	// Restores holds, for each run of failures, the time from its first
	// failure to the next deployment, oldest first.
	Restores []Sample
	// Failing is set when the newest attempt failed and nothing was
	// deployed since: an incident still open.
	Failing bool
}

// Window is how many days deployment frequency looks back.
const Window = 7

// Compute measures changes (in any order) as of now.
func Compute(changes []Change, now time.Time) Measures {
	cs := slices.Clone(changes)
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Finished.Before(cs[j].Finished) })
	var m Measures
	today := now.UTC().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(Window - 1))
	for d := first; !d.After(today); d = d.AddDate(0, 0, 1) {
		m.Days = append(m.Days, Day{Date: d})
	}
	var failingSince time.Time
	for _, c := range cs {
		if c.Outcome != Failed && !c.Committed.IsZero() && !c.Finished.Before(c.Committed) {
			m.LeadTimes = append(m.LeadTimes, Sample{SHA: c.SHA, At: c.Finished, Value: c.Finished.Sub(c.Committed)})
		}
		if c.Outcome == Carried {
			continue
		}
		day := c.Finished.UTC().Truncate(24 * time.Hour)
		i := int(day.Sub(first) / (24 * time.Hour))
		inWindow := !day.Before(first) && i < len(m.Days)
		switch c.Outcome {
		case Deployed:
			m.Deployed++
			if inWindow {
				m.Days[i].Deployed++
			}
			if !failingSince.IsZero() {
				m.Restores = append(m.Restores, Sample{SHA: c.SHA, At: c.Finished, Value: c.Finished.Sub(failingSince)})
				failingSince = time.Time{}
			}
		case Failed:
			m.Failed++
			if inWindow {
				m.Days[i].Failed++
			}
			if failingSince.IsZero() {
				failingSince = c.Finished
			}
		}
	}
	m.Failing = !failingSince.IsZero()
	return m
}

// ChangeFailureRate is the share of attempts that failed, 0 with none.
func (m Measures) ChangeFailureRate() float64 {
	if m.Deployed+m.Failed == 0 {
		return 0
	}
	return float64(m.Failed) / float64(m.Deployed+m.Failed)
}

// DeploysPerDay is the mean number of deployments a day over the window.
func (m Measures) DeploysPerDay() float64 {
	n := 0
	for _, d := range m.Days {
		n += d.Deployed
	}
	return float64(n) / float64(len(m.Days))
}

// Median is the median of samples; false with none.
func Median(samples []Sample) (time.Duration, bool) {
	if len(samples) == 0 {
		return 0, false
	}
	vs := make([]time.Duration, len(samples))
	for i, s := range samples {
		vs[i] = s.Value
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], true
	}
	return (vs[n/2-1] + vs[n/2]) / 2, true
}
