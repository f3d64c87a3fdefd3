package previewreport_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/previewreport"
	"github.com/syncgate/syncgate/sync/priority"
)

type recorder struct{ got chan status.Update }

func (recorder) Name() string { return "recorder" }

func (r recorder) Report(_ context.Context, u status.Update) error {
	r.got <- u
	return nil
}

// A preview's report waits while a sync is at work and goes once it is
// done.
func TestReportsGiveWayToSyncs(t *testing.T) {
	gate := priority.New()
	rec := recorder{got: make(chan status.Update, 1)}
	r := previewreport.GiveWay(gate, []status.Reporter{rec})[0]
	require.Equal(t, "recorder", r.Name())

	end := gate.Begin()
	done := make(chan error, 1)
	go func() { done <- r.Report(context.Background(), status.Update{SHA: "a"}) }()
	require.Eventually(t, func() bool { return gate.Waiting() == 1 }, 5*time.Second, time.Millisecond)
	require.Empty(t, rec.got, "not reported while the sync works")

	end()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "never reported")
	}
	require.Equal(t, "a", (<-rec.got).SHA)
}
