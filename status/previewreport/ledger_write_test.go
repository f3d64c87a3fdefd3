package previewreport

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/coreclient"
	"github.com/syncgate/syncgate/sync/preview"
	"github.com/syncgate/syncgate/testing/cluster"
)

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The changes that come while a write is under way go together into the
// next write: a burst of twenty webhooks costs two writes of the ledger,
// not twenty, and every one of them is kept.
func TestChangesDuringAWriteGoTogether(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	cfg := rest.CopyConfig(c.RESTConfig())
	var writes atomic.Int64
	held, hold := make(chan struct{}), make(chan struct{})
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPut || r.Method == http.MethodPost {
				if writes.Add(1) == 1 {
					close(held)
					<-hold
				}
			}
			return rt.RoundTrip(r)
		})
	})
	client, err := coreclient.New(cfg)
	require.NoError(t, err)
	l := NewLedger(client.ConfigMaps(ns), ns, "syncgate-previews")

	const burst = 20
	errs := make(chan error, burst)
	add := func(i int) {
		errs <- l.Add(context.Background(), preview.Request{
			Provider: "github", Number: i, Ref: fmt.Sprintf("refs/pull/%d/head", i), SHA: fmt.Sprintf("%040x", i)})
	}
	go add(1)
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		require.FailNow(t, "the first write never came")
	}
	for i := 2; i <= burst; i++ {
		go add(i)
	}
	require.Eventually(t, func() bool {
		l.queue.Lock()
		defer l.queue.Unlock()
		return len(l.writes) == burst-1
	}, 10*time.Second, time.Millisecond, "the others wait for the write under way")
	close(hold)
	for range burst {
		select {
		case err := <-errs:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			require.FailNow(t, "a change was never answered")
		}
	}
	require.EqualValues(t, 2, writes.Load(), "the first change, then the nineteen together")
	pending, err := NewLedger(client.ConfigMaps(ns), ns, "syncgate-previews").Pending(context.Background())
	require.NoError(t, err)
	require.Len(t, pending, burst)
}
