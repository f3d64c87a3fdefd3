package previewreport

import (
	"context"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/sync/priority"
)

// GiveWay makes each of rs wait while a sync is at work before it
// reports: a burst of previews owes forty statuses and comments, each a
// forge round trip and a ledger write, which would otherwise be delivered
// beside the sync on the same cores. The sync's own reports are not held.
func GiveWay(gate *priority.Gate, rs []status.Reporter) []status.Reporter {
	out := make([]status.Reporter, len(rs))
	for i, r := range rs {
		out[i] = givingWay{Reporter: r, gate: gate}
	}
	return out
}

type givingWay struct {
	status.Reporter
	gate *priority.Gate
}

func (g givingWay) Report(ctx context.Context, u status.Update) error {
	if err := g.gate.Wait(ctx); err != nil {
		return err
	}
	return g.Reporter.Report(ctx, u)
}
