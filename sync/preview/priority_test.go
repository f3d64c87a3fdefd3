package preview_test

import (
	"context"
	"fmt"
	"io/fs"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/preview"
	"github.com/syncgate/syncgate/sync/priority"
	"github.com/syncgate/syncgate/testing/chans"
)

// countingRenderer counts the namespaces rendered.
type countingRenderer struct{ n atomic.Int64 }

func (r *countingRenderer) RenderContext(ctx context.Context, tree fs.FS, ns string) ([]*unstructured.Unstructured, error) {
	r.n.Add(1)
	return renderer{}.RenderContext(ctx, tree, ns)
}

// A sync that begins while previews are queued does not wait for them:
// they wait at the gate, none fetched, rendered or dry-run, until it ends;
// then they all run.
func TestQueuedPreviewsWaitForASyncAtWork(t *testing.T) {
	gate := priority.New()
	r := &countingRenderer{}
	p, pl, d := startWith(t, preview.Options{Workers: 2, Gate: gate, Renderer: r, Namespaces: []string{"team", "shop"}})
	ctx := context.Background()

	end := gate.Begin() // never blocks: the sync goes on at once
	for n, c := range []byte("abc") {
		_, err := p.Submit(ctx, preview.Request{SHA: sha(c), Ref: fmt.Sprintf("refs/pull/%d/head", n+1), Provider: "github", Number: n + 1})
		require.NoError(t, err)
	}
	eventually(t, func() bool { return gate.Waiting() == 2 })
	started, _ := pl.seen()
	require.Empty(t, started, "no dry run while the sync works")
	require.Zero(t, r.n.Load(), "no render while the sync works")
	require.Empty(t, d.get())

	end()
	for _, c := range []byte("abc") {
		pl.open(sha(c))
	}
	eventually(t, func() bool { return len(d.get()) == 3 })
	require.EqualValues(t, 6, r.n.Load(), "three previews of two namespaces")
	require.Zero(t, gate.Waiting())
}

// A preview under way when a sync begins finishes the step it is in and
// waits before its next one until the sync ends.
func TestRunningPreviewGivesWayAtItsNextStep(t *testing.T) {
	gate := priority.New()
	r := &countingRenderer{}
	p, pl, d := startWith(t, preview.Options{Workers: 1, Gate: gate, Renderer: r, Namespaces: []string{"team", "shop"}})
	_, err := p.Submit(context.Background(), preview.Request{SHA: sha('a'), Provider: "github", Number: 1})
	require.NoError(t, err)
	eventually(t, func() bool { s, _ := pl.seen(); return len(s) == 1 }) // dry run of "team"

	end := gate.Begin()
	pl.open(sha('a'))
	eventually(t, func() bool { return gate.Waiting() == 1 })
	started, _ := pl.seen()
	require.Len(t, started, 1, "shop not dry-run while the sync works")
	require.EqualValues(t, 1, r.n.Load(), "shop not rendered while the sync works")

	end()
	eventually(t, func() bool { return len(d.get()) == 1 })
	require.Equal(t, []string{"github#1@" + sha('a') + "=valid"}, d.get())
	require.EqualValues(t, 2, r.n.Load())
}

// slowSource's fetches last until they are let go or their context ends;
// every ref is at sha('a').
type slowSource struct {
	source
	started chan string
	ended   chan error // the cause of a fetch's context ending
	release chan struct{}
}

func (s *slowSource) FetchRef(ctx context.Context, ref string) (string, error) {
	s.started <- ref
	select {
	case <-s.release:
		return sha('a'), nil
	case <-ctx.Done():
		s.ended <- context.Cause(ctx)
		return "", ctx.Err()
	}
}

// A preview's fetch under way when a sync begins holds the clone the sync
// needs: it is cancelled at once, and made again once the sync is done.
func TestFetchUnderWayGivesTheCloneToASync(t *testing.T) {
	gate := priority.New()
	src := &slowSource{started: make(chan string, 4), ended: make(chan error, 4), release: make(chan struct{})}
	p, pl, d := startWith(t, preview.Options{Workers: 1, Gate: gate, Source: src})
	_, err := p.Submit(context.Background(), preview.Request{SHA: sha('a'), Ref: "refs/pull/1/head", Provider: "github", Number: 1})
	require.NoError(t, err)
	require.Equal(t, "refs/pull/1/head", chans.Recv(t, src.started, "a value"))

	end := gate.Begin()
	require.ErrorIs(t, chans.Recv(t, src.ended, "a value"), priority.ErrGaveWay, "the fetch under way is cancelled when the sync begins")
	eventually(t, func() bool { return gate.Waiting() == 1 })
	require.Empty(t, src.started, "not fetched again while the sync works")

	end()
	require.Equal(t, "refs/pull/1/head", chans.Recv(t, src.started, "a value"), "fetched again once the sync is done")
	close(src.release)
	pl.open(sha('a'))
	eventually(t, func() bool { return len(d.get()) == 1 })
	require.Equal(t, []string{"github#1@" + sha('a') + "=valid"}, d.get())
}

// recv is the next value on ch, or the test fails after five seconds.

// A request through the API that names a ref only is fetched at once to
// learn its sha: that fetch gives way to syncs as a preview's does, waiting
// while one is at work and cancelled when one begins.
func TestSubmitsFetchGivesWayToSyncs(t *testing.T) {
	gate := priority.New()
	src := &slowSource{started: make(chan string, 4), ended: make(chan error, 4), release: make(chan struct{})}
	p, _, _ := startWith(t, preview.Options{Workers: 1, Gate: gate, Source: src})
	end := gate.Begin()
	answered := make(chan error, 1)
	go func() {
		_, err := p.Submit(context.Background(), preview.Request{Ref: "refs/pull/1/head"})
		answered <- err
	}()
	eventually(t, func() bool { return gate.Waiting() == 1 })
	require.Empty(t, src.started, "not fetched while the sync works")

	end()
	require.Equal(t, "refs/pull/1/head", chans.Recv(t, src.started, "a value"))
	end = gate.Begin()
	require.ErrorIs(t, chans.Recv(t, src.ended, "a value"), priority.ErrGaveWay, "cancelled when a sync begins")
	end()
	require.Equal(t, "refs/pull/1/head", chans.Recv(t, src.started, "a value"), "fetched again once the sync is done")
	close(src.release)
	require.NoError(t, chans.Recv(t, answered, "a value"))
}
