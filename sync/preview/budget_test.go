package preview_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/preview"
	"github.com/syncgate/syncgate/sync/priority"
)

// Time a preview spends giving way to syncs is not its own: however long
// the syncs take, it is not timed out for it.
func TestWaitingAtTheGateIsNotThePreviewsTime(t *testing.T) {
	gate := priority.New()
	p, pl, d := startWith(t, preview.Options{Workers: 1, Gate: gate, Timeout: 200 * time.Millisecond})
	end := gate.Begin()
	_, err := p.Submit(context.Background(), preview.Request{SHA: sha('a'), Ref: "refs/pull/1/head", Provider: "github", Number: 1})
	require.NoError(t, err)
	eventually(t, func() bool { return gate.Waiting() == 1 })
	require.Never(t, func() bool { return len(d.get()) > 0 }, time.Second, 10*time.Millisecond,
		"not timed out while a sync works, five times the timeout")

	end()
	pl.open(sha('a'))
	eventually(t, func() bool { return len(d.get()) == 1 })
	require.Equal(t, []string{"github#1@" + sha('a') + "=valid"}, d.get())
}

// A preview whose own work outlasts the timeout is ended, and says so.
func TestAPreviewWorkingTooLongTimesOut(t *testing.T) {
	p, _, d := startWith(t, preview.Options{Workers: 1, Gate: priority.New(), Timeout: 100 * time.Millisecond})
	_, err := p.Submit(context.Background(), preview.Request{SHA: sha('a'), Provider: "github", Number: 1})
	require.NoError(t, err)
	eventually(t, func() bool { return len(d.get()) == 1 })
	require.Equal(t, []string{"github#1@" + sha('a') + "=error"}, d.get())
	require.Equal(t, "timed out after 100ms", p.Get(sha('a')).Reason)
}

// failingSource cannot fetch.
type failingSource struct{ source }

func (failingSource) FetchRef(context.Context, string) (string, error) {
	return "", errors.New("remote hung up")
}

// A preview that fails quickly says why, not that it timed out.
func TestAFailedFetchIsNotATimeout(t *testing.T) {
	p, _, d := startWith(t, preview.Options{Workers: 1, Source: failingSource{}})
	_, err := p.Submit(context.Background(), preview.Request{SHA: sha('a'), Ref: "refs/pull/1/head", Provider: "github", Number: 1})
	require.NoError(t, err)
	eventually(t, func() bool { return len(d.get()) == 1 })
	require.Equal(t, "fetch: remote hung up", p.Get(sha('a')).Reason)
}
