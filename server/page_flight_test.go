package server

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// The commit in flight is shown in progress for as long as its health
// timeout has run (lifecycle.RolloutSince): since it was begun while it is
// applied, since its apply while it rolls out, since a restore that rolled
// it out again. Before, a rollback being applied showed the time since its
// first apply, and a rollout a restore began again the time since its
// apply, neither what its deadline or the overdue alert count from.
func TestTheCommitInFlightIsShownForAsLongAsItsClockRan(t *testing.T) {
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) *metav1.Time { return &metav1.Time{Time: now.Add(-ago)} }
	for _, tc := range []struct {
		name string
		c    version.Commit
		want string
	}{
		{"being applied", version.Commit{State: status.Applying, FetchedAt: at(20 * time.Second)}, "20s"},
		{"rolling out", version.Commit{State: status.RollingOut, FetchedAt: at(90 * time.Second), AppliedAt: at(80 * time.Second)}, "1m20s"},
		{"rolled out again by a restore", version.Commit{State: status.RollingOut, FetchedAt: at(time.Hour), AppliedAt: at(time.Hour),
			RestoredAt: at(10 * time.Second)}, "10s"},
		{"a rollback being applied", version.Commit{State: status.Applying, FetchedAt: at(30 * time.Second), AppliedAt: at(time.Hour)}, "30s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.SHA = sha('e')
			require.Equal(t, tc.want, inFlight(tc.c, CommitInfo{}, now).For)
		})
	}
}
