package outbox_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/version"
)

// The application commits a config commit names are looked up once, kept
// on its history entry through the stored form, and carried by each of
// its reports, a carried commit's included.
func TestReportsCarryTheOrigins(t *testing.T) {
	fc := testingclock.NewFakeClock(t0)
	l := newLedger("web")
	origins := map[string][]string{shaA: {"acme/web@" + shaA}, shaB: {"acme/web@" + shaB, "https://gitlab.example.com/g/api.git@" + shaB}}
	asked := map[string]int{}
	s := &sink{name: "origin", clock: fc}
	d, err := outbox.NewDeliverer(outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{s}, Clock: fc,
		Origins: func(sha string) []string { asked[sha]++; return origins[sha] }})
	require.NoError(t, err)
	transition := func(tr lifecycle.Transition, carry ...string) {
		require.NoError(t, l.Update(context.Background(), "web", func(st *version.VersionStatus) error {
			if len(carry) > 0 {
				lifecycle.Carry(st, tr.SHA, carry, t0)
			}
			for _, u := range tr.Apply(st, "prod") {
				u.Namespace = "web"
				d.Record(st, u)
			}
			return nil
		}))
	}
	transition(lifecycle.Transition{SHA: shaB, State: status.Applying, At: t0}, shaA)
	transition(lifecycle.Transition{SHA: shaB, State: status.RollingOut, At: t0})
	transition(lifecycle.Transition{SHA: shaB, State: status.Deployed, At: t0})
	require.Equal(t, origins[shaB], l.status("web").Find(shaB).Origins, "kept on the history entry")
	require.Equal(t, 1, asked[shaB], "looked up once")

	start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{s}, Clock: fc})
	idle(t, fc, func() bool { return len(l.owed("web")) == 0 })
	got := map[string][]string{}
	for _, c := range s.got() {
		got[c.u.SHA] = c.u.Origins
		require.Equal(t, origins[c.u.SHA], c.u.Origins, "%s %s", c.u.SHA, c.u.State)
	}
	require.Len(t, got, 2, "the carrier's reports and the carried commit's")
}
