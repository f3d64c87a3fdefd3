package outbox_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/version"
)

type owedRow struct {
	sink, sha string
	state     status.State
	permanent bool
}

func rows(owed []version.OwedReport) []owedRow {
	out := []owedRow{}
	for _, o := range owed {
		out = append(out, owedRow{o.Sink, o.SHA, o.State, o.Permanent})
	}
	return out
}

func TestRecordCollapses(t *testing.T) {
	u := func(sha string, s status.State) status.Update {
		return status.Update{Cluster: "prod", SHA: sha, State: s}
	}
	for _, tc := range []struct {
		name    string
		before  []version.OwedReport
		updates []status.Update
		sinks   []string
		want    []owedRow
	}{
		{
			name:    "only the latest meaning of a commit is owed",
			updates: []status.Update{u(shaA, status.Applying), u(shaA, status.RollingOut), u(shaA, status.Deployed)},
			sinks:   []string{"s3", "github"},
			want:    []owedRow{{"s3", shaA, status.Deployed, false}, {"github", shaA, status.Deployed, false}},
		},
		{
			name:    "a final report is not replaced by a later non-final one",
			updates: []status.Update{u(shaA, status.Failed), u(shaA, status.Applying)},
			sinks:   []string{"github"},
			want:    []owedRow{{"github", shaA, status.Failed, false}, {"github", shaA, status.Applying, false}},
		},
		{
			name:    "the queued non-final report takes the next final one",
			updates: []status.Update{u(shaA, status.Failed), u(shaA, status.Applying), u(shaA, status.Deployed)},
			sinks:   []string{"github"},
			want:    []owedRow{{"github", shaA, status.Failed, false}, {"github", shaA, status.Deployed, false}},
		},
		{
			name:    "a report takes its place when it is recorded, replacing or not",
			updates: []status.Update{u(shaA, status.Applying), u(shaB, status.Applying), u(shaA, status.Superseded)},
			sinks:   []string{"github"},
			want:    []owedRow{{"github", shaB, status.Applying, false}, {"github", shaA, status.Superseded, false}},
		},
		{
			name:    "a rollback's report is newer than the other commit's",
			updates: []status.Update{u(shaA, status.Deployed), u(shaB, status.Deployed), u(shaA, status.Applying), u(shaA, status.Deployed)},
			sinks:   []string{"github"},
			want:    []owedRow{{"github", shaA, status.Deployed, false}, {"github", shaB, status.Deployed, false}, {"github", shaA, status.Deployed, false}},
		},
		{
			name:    "a refused report gives way to a newer transition",
			before:  []version.OwedReport{{Sink: "github", SHA: shaA, State: status.Applying, Permanent: true, Attempts: 1}},
			updates: []status.Update{u(shaA, status.RollingOut)},
			sinks:   []string{"github"},
			want:    []owedRow{{"github", shaA, status.RollingOut, false}},
		},
		{
			name:    "other sinks' reports are left alone",
			before:  []version.OwedReport{{Sink: "s3", SHA: shaA, State: status.Deployed}},
			updates: []status.Update{u(shaA, status.Deployed)},
			sinks:   []string{"github"},
			want:    []owedRow{{"s3", shaA, status.Deployed, false}, {"github", shaA, status.Deployed, false}},
		},
		{
			name:    "no sinks, nothing owed",
			updates: []status.Update{u(shaA, status.Deployed)},
			want:    []owedRow{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &version.VersionStatus{Owed: tc.before}
			for _, up := range tc.updates {
				outbox.Record(st, up, tc.sinks)
			}
			require.Equal(t, tc.want, rows(st.Owed))
		})
	}
}

func TestRecordKeepsWhatTheReportNeeds(t *testing.T) {
	st := &version.VersionStatus{}
	u := status.Update{Cluster: "prod", Namespace: "web", SHA: shaA, State: status.Superseded, Outcome: status.Deployed,
		CarriedBy: shaB, Reason: "r", BegunAt: t0.Add(-60 * 1e9), AppliedAt: t0.Add(123456789), FinishedAt: t0.Add(42 * 1e9), Deployments: []string{"api", "web"}, Ready: 2, Total: 3}
	outbox.Record(st, u, []string{"s3"})
	require.Len(t, st.Owed, 1)
	o := st.Owed[0]
	require.Equal(t, "prod", o.Cluster)
	require.Equal(t, shaB, o.CarriedBy)
	require.Equal(t, status.Deployed, o.Outcome)
	require.Equal(t, []string{"api", "web"}, o.Deployments)
	require.Equal(t, int32(2), o.Ready)
	require.Equal(t, int32(3), o.Total)
	require.Equal(t, t0.Add(-60e9), o.BegunAt.Time, "the attempt the report is of")
	require.Equal(t, t0, o.AppliedAt.Time, "whole seconds, as the API server keeps them")
	require.Equal(t, t0.Add(42e9), o.FinishedAt.Time)
	u.Deployments[0] = "changed"
	require.Equal(t, "api", o.Deployments[0], "the report owns its copy")
}

func TestRecordIsBounded(t *testing.T) {
	sha := func(i int) string { return fmt.Sprintf("%040x", i) }
	for _, tc := range []struct {
		name      string
		permanent []int // indexes recorded first and marked refused
		nonFinal  []int
		wantGone  []int
	}{
		{name: "oldest goes first", wantGone: []int{0, 1, 2, 3, 4}},
		{name: "refused reports go before others", permanent: []int{50, 60}, wantGone: []int{50, 60, 0, 1, 2}},
		{name: "non-final reports go before final ones", nonFinal: []int{70, 80, 90}, wantGone: []int{70, 80, 90, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &version.VersionStatus{}
			nonFinal := map[int]bool{}
			for _, i := range tc.nonFinal {
				nonFinal[i] = true
			}
			for i := 0; i < outbox.MaxOwedPerSink+5; i++ {
				s := status.Deployed
				if nonFinal[i] {
					s = status.RollingOut
				}
				outbox.Record(st, status.Update{SHA: sha(i), State: s}, []string{"s3"})
				for _, p := range tc.permanent {
					if p == i {
						st.Owed[len(st.Owed)-1].Permanent = true
					}
				}
				outbox.Record(st, status.Update{SHA: sha(i), State: s}, []string{}) // no sink: no change
			}
			require.Len(t, st.Owed, outbox.MaxOwedPerSink)
			left := map[string]bool{}
			for _, o := range st.Owed {
				left[o.SHA] = true
			}
			for _, g := range tc.wantGone {
				require.False(t, left[sha(g)], "report %d should have been dropped", g)
			}
		})
	}
}
