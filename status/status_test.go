package status_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
)

const (
	sha     = "0123456789abcdef0123456789abcdef01234567"
	carrier = "abc1234def5678abc1234def5678abc1234def56"
)

func TestDescription(t *testing.T) {
	applied := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	long := "Deployment web: pod web-7d9 container web: CrashLoopBackOff: back-off 5m0s restarting failed container\n" + strings.Repeat("x", 200)
	for _, tc := range []struct {
		name string
		u    status.Update
		want string
	}{
		{"fetched", status.Update{State: status.Fetched}, "applying"},
		{"applying", status.Update{State: status.Applying}, "applying"},
		{"rolling out without counts", status.Update{State: status.RollingOut}, "rolling out"},
		{"rolling out", status.Update{State: status.RollingOut, Ready: 2, Total: 3}, "rolling out (2/3 ready)"},
		{"deployed", status.Update{State: status.Deployed, AppliedAt: applied, FinishedAt: applied.Add(42 * time.Second)}, "deployed in 42s"},
		{"deployed in under a second", status.Update{State: status.Deployed, AppliedAt: applied, FinishedAt: applied.Add(420400 * time.Microsecond)}, "deployed in 420ms"},
		{"deployed in minutes", status.Update{State: status.Deployed, AppliedAt: applied, FinishedAt: applied.Add(125400 * time.Millisecond)}, "deployed in 2m5s"},
		{"deployed without times", status.Update{State: status.Deployed}, "deployed"},
		{"failed", status.Update{State: status.Failed, Reason: "health timeout: Deployment web 1/3 ready"}, "health timeout: Deployment web 1/3 ready"},
		{"failed without reason", status.Update{State: status.Failed}, "failed"},
		{"failed with a long reason", status.Update{State: status.Failed, Reason: long},
			"Deployment web: pod web-7d9 container web: CrashLoopBackOff: back-off 5m0s restarting failed container " + strings.Repeat("x", 36) + "…"},
		{"superseded deployed", status.Update{State: status.Superseded, Outcome: status.Deployed, CarriedBy: carrier, AppliedAt: applied, FinishedAt: applied.Add(42 * time.Second)}, "deployed by abc1234 in 42s"},
		{"superseded failed", status.Update{State: status.Superseded, Outcome: status.Failed, CarriedBy: carrier, Reason: "ImagePullBackOff"}, "failed in abc1234: ImagePullBackOff"},
		{"superseded, outcome unknown", status.Update{State: status.Superseded, CarriedBy: carrier}, "superseded by abc1234"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.u
			u.SHA = sha
			got := status.Description(u)
			require.Equal(t, tc.want, got)
			require.LessOrEqual(t, utf8.RuneCountInString(got), status.MaxDescription)
		})
	}
}

func TestErrorMarks(t *testing.T) {
	base := errors.New("401 Bad credentials")
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
		after     time.Duration
		hasAfter  bool
	}{
		{"plain", base, false, 0, false},
		{"permanent", status.Permanent(base), true, 0, false},
		{"wrapped permanent", fmt.Errorf("post status: %w", status.Permanent(base)), true, 0, false},
		{"retry after", status.RetryAfter(base, 30*time.Second), false, 30 * time.Second, true},
		{"wrapped retry after", fmt.Errorf("put: %w", status.RetryAfter(base, time.Minute)), false, time.Minute, true},
		{"negative delay", status.RetryAfter(base, -time.Second), false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.permanent, status.IsPermanent(tc.err))
			d, ok := status.RetryAfterOf(tc.err)
			require.Equal(t, tc.hasAfter, ok)
			require.Equal(t, tc.after, d)
			require.ErrorIs(t, tc.err, base)
			require.Equal(t, base.Error(), tc.err.Error()[len(tc.err.Error())-len(base.Error()):])
		})
	}
	require.NoError(t, status.Permanent(nil))
	require.NoError(t, status.RetryAfter(nil, time.Second))
}

func TestStates(t *testing.T) {
	for _, tc := range []struct {
		s        status.State
		terminal bool
	}{
		{status.Fetched, false}, {status.Applying, false}, {status.RollingOut, false},
		{status.Deployed, true}, {status.Failed, true}, {status.Superseded, true},
	} {
		require.Equal(t, tc.terminal, tc.s.Terminal(), tc.s)
		require.True(t, tc.s.Valid(), tc.s)
	}
	require.False(t, status.State("done").Valid())
	u := status.Update{State: status.Superseded, Outcome: status.Failed}
	require.Equal(t, status.Failed, u.Effective())
}
