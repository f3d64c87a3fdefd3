package kinds

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/requestlog"
)

// Lookups that missed on the same load, as the workers of 8 namespaces
// meeting a new kind together do, load discovery again once between them.
func TestMissesShareOneLoad(t *testing.T) {
	cfg := cluster.Shared(t).RESTConfig()
	log := &requestlog.Log{}
	cfg.Wrap(log.Wrap)
	m, err := New(cfg)
	require.NoError(t, err)
	first, err := m.current()
	require.NoError(t, err)

	const workers = 8
	tables := make([]*table, workers)
	errs := make([]error, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tables[i], errs[i] = m.refresh(first)
		}()
	}
	close(start)
	wg.Wait()
	for i, tb := range tables {
		require.NoError(t, errs[i])
		require.True(t, tb != first && tb == tables[0], "every miss is answered by the same new load")
	}
	require.Len(t, log.Requests("/api"), 2)
	require.Len(t, log.Requests("/apis"), 2)
}
