package previewreport_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/coreclient"
	"github.com/syncgate/syncgate/status/previewreport"
	"github.com/syncgate/syncgate/sync/preview"
	"github.com/syncgate/syncgate/testing/cluster"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{})) }

// A burst of pull requests reaches the ledger at once, as webhooks do, on
// two replicas: every request is kept, none is lost to a write conflict.
func TestBurstOfRequestsAllKept(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	client, err := coreclient.New(c.RESTConfig())
	require.NoError(t, err)
	replicas := []*previewreport.Ledger{
		previewreport.NewLedger(client.ConfigMaps(ns), ns, "syncgate-previews"),
		previewreport.NewLedger(client.ConfigMaps(ns), ns, "syncgate-previews"),
	}

	const burst = 20
	errs := make([]error, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = replicas[i%2].Add(context.Background(), preview.Request{
				Provider: "github", Number: i + 1, Ref: fmt.Sprintf("refs/pull/%d/head", i+1), SHA: fmt.Sprintf("%040x", i+1)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "request %d", i+1)
	}

	// A second ledger reads what the first wrote: nothing only in memory.
	pending, err := previewreport.NewLedger(client.ConfigMaps(ns), ns, "syncgate-previews").Pending(context.Background())
	require.NoError(t, err)
	require.Len(t, pending, burst)
}

// A write under a cancelled context is an error: a request the ledger did
// not keep is never taken for kept.
func TestACancelledAddIsAnError(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	client, err := coreclient.New(c.RESTConfig())
	require.NoError(t, err)
	ledger := previewreport.NewLedger(client.ConfigMaps(ns), ns, "syncgate-previews")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = ledger.Add(ctx, preview.Request{Provider: "github", Number: 1, Ref: "refs/pull/1/head", SHA: fmt.Sprintf("%040x", 1)})
	require.ErrorIs(t, err, context.Canceled)

	pending, err := ledger.Pending(context.Background())
	require.NoError(t, err)
	require.Empty(t, pending)
}
