package lifecycle

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// The commit in flight is reported from when its clock started by the rule
// its health deadline counts by: from its begin while it is being applied,
// from its apply while it rolls out, and from a restore that rolled it out
// again since. Before, it counted from its begin throughout, so a rollout a
// restore began again near its timeout stayed open past begin + timeout
// and the SyncgateCommitNotFinal alert fired during a wait it is allowed.
func TestInFlightCountsByTheHealthDeadlineRule(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: t0.Add(d)} }
	for _, tc := range []struct {
		name string
		st   version.VersionStatus
		want time.Time
	}{
		{"being applied", version.VersionStatus{Applied: "a", Head: "b", History: []version.Commit{
			{SHA: "b", State: status.Applying, FetchedAt: at(10 * time.Minute)},
			{SHA: "a", State: status.Deployed, FetchedAt: at(0), AppliedAt: at(time.Minute)},
		}}, t0.Add(10 * time.Minute)},
		{"rolling out", version.VersionStatus{Applied: "a", Head: "a", History: []version.Commit{
			{SHA: "a", State: status.RollingOut, FetchedAt: at(0), AppliedAt: at(3 * time.Minute)},
		}}, t0.Add(3 * time.Minute)},
		{"rolled out again by a restore", version.VersionStatus{Applied: "a", Head: "b", History: []version.Commit{
			{SHA: "b", State: status.Failed, FetchedAt: at(4 * time.Minute), FinishedAt: at(4 * time.Minute)},
			{SHA: "a", State: status.RollingOut, FetchedAt: at(0), AppliedAt: at(time.Minute), RestoredAt: at(5 * time.Minute)},
		}}, t0.Add(5 * time.Minute)},
		{"begun again, a restore before", version.VersionStatus{Applied: "a", Head: "a", History: []version.Commit{
			{SHA: "a", State: status.Applying, FetchedAt: at(20 * time.Minute), AppliedAt: at(time.Minute), RestoredAt: at(5 * time.Minute)},
		}}, t0.Add(20 * time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, began, ok := InFlight(&tc.st)
			require.True(t, ok)
			require.Equal(t, tc.want, began)
		})
	}
}
