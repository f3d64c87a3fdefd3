package outbox_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/version"
)

// keeper is a sink that keeps "id-<n>" of each commit at its n-th delivery.
type keeper struct{ *sink }

func (k keeper) ReportKept(ctx context.Context, u status.Update) (string, error) {
	if err := k.Report(ctx, u); err != nil {
		return "", err
	}
	return fmt.Sprintf("id-%d", k.count()), nil
}

// What a sink keeps of a commit at a delivery goes with its next reports
// of the commit: those already owed (a rollback's queued behind the final
// one) and those recorded later, from the history entry.
func TestWhatASinkKeepsGoesWithItsNextReports(t *testing.T) {
	clk := testingclock.NewFakeClock(t0)
	k := keeper{&sink{name: "keeper", clock: clk}}
	l := newLedger("web")
	record := func(us ...status.Update) {
		t.Helper()
		require.NoError(t, l.Update(context.Background(), "web", func(st *version.VersionStatus) error {
			for _, u := range us {
				u.Namespace = "web"
				st.Record(version.Commit{SHA: u.SHA, State: u.State})
				outbox.Record(st, u, []string{k.name})
			}
			return nil
		}))
	}
	record(status.Update{SHA: shaA, State: status.Deployed}, status.Update{SHA: shaA, State: status.Applying})
	require.Len(t, l.owed("web"), 2, "the rollback queues behind the final report")
	d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{k}, Clock: clk})
	idle(t, clk, func() bool { return k.count() == 1 })
	d.Kick() // one report of a commit per pass
	idle(t, clk, func() bool { return len(l.owed("web")) == 0 })
	record(status.Update{SHA: shaA, State: status.Deployed})
	d.Kick()
	idle(t, clk, func() bool { return len(l.owed("web")) == 0 && k.count() == 3 })
	var refs []string
	for _, c := range k.got() {
		refs = append(refs, c.u.Ref)
	}
	require.Equal(t, []string{"", "id-1", "id-2"}, refs)
	require.Equal(t, map[string]string{"keeper": "id-3"}, l.status("web").Find(shaA).SinkRefs)
}
