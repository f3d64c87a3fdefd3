package measures_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status/measures"
)

func TestCompute(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	at := func(daysAgo int, hm string) time.Time {
		d, err := time.ParseDuration(hm)
		require.NoError(t, err)
		return now.Truncate(24*time.Hour).AddDate(0, 0, -daysAgo).Add(d)
	}
	changes := []measures.Change{ // out of order on purpose
		{SHA: "d4", Outcome: measures.Deployed, Committed: at(0, "9h50m"), Finished: at(0, "10h")},
		{SHA: "f2", Outcome: measures.Failed, Committed: at(1, "8h"), Finished: at(1, "8h5m")},
		{SHA: "d1", Outcome: measures.Deployed, Committed: at(2, "9h"), Finished: at(2, "9h30m")},
		{SHA: "f3", Outcome: measures.Failed, Committed: at(1, "8h10m"), Finished: at(1, "8h20m")},
		{SHA: "c3", Outcome: measures.Carried, Committed: at(1, "8h30m"), Finished: at(1, "9h")},
		{SHA: "d3", Outcome: measures.Deployed, Committed: at(1, "8h40m"), Finished: at(1, "9h")},
		{SHA: "old", Outcome: measures.Deployed, Committed: at(30, "1h"), Finished: at(30, "2h")},
		{SHA: "nogit", Outcome: measures.Deployed, Finished: at(0, "11h")},
		{SHA: "f5", Outcome: measures.Failed, Committed: at(0, "11h10m"), Finished: at(0, "11h20m")},
	}
	m := measures.Compute(changes, now)

	var lead []string
	for _, s := range m.LeadTimes {
		lead = append(lead, s.SHA+"="+s.Value.String())
	}
	// Failed commits never reached production; a commit git does not know has no start.
	require.Equal(t, []string{"old=1h0m0s", "d1=30m0s", "c3=30m0s", "d3=20m0s", "d4=10m0s"}, lead)
	med, ok := measures.Median(m.LeadTimes)
	require.True(t, ok)
	require.Equal(t, 30*time.Minute, med)

	require.Equal(t, 5, m.Deployed) // old, d1, d3, d4, nogit: carried commits are not deployments
	require.Equal(t, 3, m.Failed)
	require.InDelta(t, 3.0/8, m.ChangeFailureRate(), 1e-9)

	require.Len(t, m.Days, measures.Window)
	require.Equal(t, now.Truncate(24*time.Hour), m.Days[6].Date)
	require.Equal(t, measures.Day{Date: m.Days[6].Date, Deployed: 2, Failed: 1}, m.Days[6])
	require.Equal(t, measures.Day{Date: m.Days[5].Date, Deployed: 1, Failed: 2}, m.Days[5])
	require.Equal(t, measures.Day{Date: m.Days[4].Date, Deployed: 1}, m.Days[4])
	require.InDelta(t, 4.0/7, m.DeploysPerDay(), 1e-9) // "old" is outside the window

	// f2 and f3 are one incident, from f2's failure to d3's deployment;
	// f5 is still open.
	require.Len(t, m.Restores, 1)
	require.Equal(t, measures.Sample{SHA: "d3", At: at(1, "9h"), Value: 55 * time.Minute}, m.Restores[0])
	require.True(t, m.Failing)
}

func TestComputeNothing(t *testing.T) {
	m := measures.Compute(nil, time.Now())
	require.Zero(t, m.ChangeFailureRate())
	require.Zero(t, m.DeploysPerDay())
	_, ok := measures.Median(m.LeadTimes)
	require.False(t, ok)
	require.False(t, m.Failing)
}

func TestMedianEven(t *testing.T) {
	med, ok := measures.Median([]measures.Sample{{Value: 4}, {Value: 1}, {Value: 3}, {Value: 2}})
	require.True(t, ok)
	require.Equal(t, time.Duration(2), med) // (2+3)/2 in integer nanoseconds
}
