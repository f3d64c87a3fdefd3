package preview_test

import (
	"context"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/preview"
)

type source struct{}

func (source) FetchRef(_ context.Context, ref string) (string, error) { return ref, nil }
func (source) Tree(sha string) (fs.FS, error) {
	return fstest.MapFS{"sha": &fstest.MapFile{Data: []byte(sha)}}, nil
}

// renderer names its one object after the commit it renders, so the
// planner knows which preview it serves.
type renderer struct{}

func (renderer) RenderContext(_ context.Context, tree fs.FS, _ string) ([]*unstructured.Unstructured, error) {
	sha, err := fs.ReadFile(tree, "sha")
	if err != nil {
		return nil, err
	}
	return []*unstructured.Unstructured{{Object: map[string]any{"kind": "ConfigMap", "metadata": map[string]any{"name": string(sha)}}}}, nil
}

// planner blocks each preview until released, and records them.
type planner struct {
	mu       sync.Mutex
	started  []string
	canceled []string
	release  map[string]chan struct{}
}

func (p *planner) Preview(ctx context.Context, _ string, objs []*unstructured.Unstructured, _ []apply.Entry) (*apply.Plan, error) {
	sha := objs[0].GetName()
	p.mu.Lock()
	p.started = append(p.started, sha)
	ch := p.gate(sha)
	p.mu.Unlock()
	select {
	case <-ch:
		return &apply.Plan{Unchanged: 1}, nil
	case <-ctx.Done():
		p.mu.Lock()
		p.canceled = append(p.canceled, sha)
		p.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (p *planner) gate(sha string) chan struct{} {
	if p.release[sha] == nil {
		p.release[sha] = make(chan struct{})
	}
	return p.release[sha]
}

func (p *planner) open(sha string) {
	p.mu.Lock()
	close(p.gate(sha))
	p.mu.Unlock()
}

func (p *planner) seen() ([]string, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.started...), append([]string(nil), p.canceled...)
}

type done struct {
	mu   sync.Mutex
	list []string
}

func (d *done) add(r preview.Request, res *preview.Result) {
	d.mu.Lock()
	d.list = append(d.list, r.Key()+"@"+res.SHA+"="+res.State)
	d.mu.Unlock()
}

func (d *done) get() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.list...)
}

func start(t *testing.T, workers, queue int) (*preview.Previewer, *planner, *done) {
	t.Helper()
	return startWith(t, preview.Options{Workers: workers, Queue: queue})
}

// startWith runs a Previewer of opts, completed with the fakes above.
func startWith(t *testing.T, opts preview.Options) (*preview.Previewer, *planner, *done) {
	t.Helper()
	pl := &planner{release: map[string]chan struct{}{}}
	d := &done{}
	opts.Cluster, opts.Planner, opts.Done = "c", pl, d.add
	if opts.Source == nil {
		opts.Source = source{}
	}
	opts.Live = func(string) (string, []apply.Entry) { return "base", nil }
	if opts.Renderer == nil {
		opts.Renderer = renderer{}
	}
	if opts.Namespaces == nil {
		opts.Namespaces = []string{"team"}
	}
	p, err := preview.New(opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = p.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })
	return p, pl, d
}

func sha(c byte) string { return strings.Repeat(string(c), 40) }

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, time.Millisecond)
}

// A newer head of the same pull request cancels the preview of the older,
// whose result is never reported.
func TestNewerHeadCancelsOlder(t *testing.T) {
	p, pl, d := start(t, 1, 0)
	ctx := context.Background()
	_, err := p.Submit(ctx, preview.Request{SHA: sha('a'), Ref: "refs/pull/1/head", Provider: "github", Number: 1})
	require.NoError(t, err)
	eventually(t, func() bool { s, _ := pl.seen(); return len(s) == 1 })
	_, err = p.Submit(ctx, preview.Request{SHA: sha('b'), Ref: "refs/pull/1/head", Provider: "github", Number: 1})
	require.NoError(t, err)
	eventually(t, func() bool { s, c := pl.seen(); return len(s) == 2 && len(c) == 1 })
	_, canceled := pl.seen()
	require.Equal(t, []string{sha('a')}, canceled)
	pl.open(sha('b'))
	eventually(t, func() bool { return len(d.get()) == 1 })
	require.Equal(t, []string{"github#1@" + sha('b') + "=valid"}, d.get())
	require.Equal(t, preview.Valid, p.Get(sha('b')[:7]).State)
}

// A burst is queued within the bound and worked Workers at a time; the
// same head asked twice is one preview; a sha previewed against the same
// applied commits is answered from the cache.
func TestBurstQueuedDedupedCached(t *testing.T) {
	p, pl, d := start(t, 2, 3)
	ctx := context.Background()
	for n, c := range []byte("abcde") {
		_, err := p.Submit(ctx, preview.Request{SHA: sha(c), Provider: "github", Number: n + 1})
		require.NoError(t, err, n)
		if n == 1 { // two running, then three queued
			eventually(t, func() bool { s, _ := pl.seen(); return len(s) == 2 })
		}
	}
	_, err := p.Submit(ctx, preview.Request{SHA: sha('f'), Provider: "github", Number: 6})
	require.ErrorIs(t, err, preview.ErrBusy)
	_, err = p.Submit(ctx, preview.Request{SHA: sha('a'), Provider: "github", Number: 1})
	require.NoError(t, err, "the same head again is the one under way")
	for _, c := range []byte("abcde") {
		pl.open(sha(c))
	}
	eventually(t, func() bool { return len(d.get()) == 5 })
	started, _ := pl.seen()
	require.Len(t, started, 5, "two running at most, each head once")

	_, err = p.Submit(ctx, preview.Request{SHA: sha('a'), Provider: "github", Number: 7})
	require.NoError(t, err)
	eventually(t, func() bool { return len(d.get()) == 6 })
	started, _ = pl.seen()
	require.Len(t, started, 5, "answered from the cache")
}
