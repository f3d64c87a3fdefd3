package preview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/syncgate/syncgate/sync/gitsource"
	"github.com/syncgate/syncgate/sync/priority"
)

// Errors of Submit, matched with errors.Is.
var (
	// ErrBusy: the queue is full; ask again later.
	ErrBusy = errors.New("preview queue full")
	// ErrNotFound: the ref or sha is not on the remote.
	ErrNotFound = errors.New("not found")
	// ErrBadRequest: not a ref that can be fetched.
	ErrBadRequest = errors.New("bad request")
)

// Journal keeps the requests not answered yet, so that a restart loses
// none: Add before a request is accepted (a newer head of the same pull
// request replaces the older), Pending when work starts again. The
// reports of a request are recorded, and the request dropped, by
// Options.Done.
type Journal interface {
	Add(ctx context.Context, r Request) error
	Pending(ctx context.Context) ([]Request, error)
}

// Options configure a Previewer.
type Options struct {
	Cluster    string
	Namespaces []string
	Source     Source
	Renderer   Renderer
	Planner    Planner
	Live       Live
	// Journal keeps the requests not answered yet (optional).
	Journal Journal
	// Done gets each request's result once, when final; a request a newer
	// head replaced gets none.
	Done func(Request, *Result)
	// Workers is how many previews run at once (default 2): a budget of
	// their own, apart from the syncs'.
	Workers int
	// Gate, when set, is waited at before each step of a preview (the
	// fetch, and each namespace's render and dry run): previews give way
	// to syncs at work. Time spent there does not count toward Timeout.
	Gate *priority.Gate
	// Queue bounds the requests waiting (default 256); more get ErrBusy.
	Queue int
	// Timeout bounds one preview's own time (default 5m), not counting
	// the time it waits at the Gate.
	Timeout time.Duration
	// Results bounds the results kept for GET /previews/<sha> (default 512).
	Results int
	Now     func() time.Time
	Logger  *slog.Logger
}

// Previewer queues and runs previews.
type Previewer struct {
	opts Options
	wake chan struct{}

	mu      sync.Mutex
	queue   []*job          // waiting, oldest first
	running map[string]*job // by request key
	results map[string]*Result
	order   []string // shas of results, oldest first
	cache   map[string]*Result
}

type job struct {
	req    Request
	cancel context.CancelFunc
	// superseded: a newer head of the same pull request came; the result
	// is dropped.
	superseded bool
}

// New checks the options.
func New(opts Options) (*Previewer, error) {
	if opts.Source == nil || opts.Renderer == nil || opts.Planner == nil || opts.Live == nil {
		return nil, errors.New("preview: source, renderer, planner and live are required")
	}
	if len(opts.Namespaces) == 0 {
		return nil, errors.New("preview: at least one namespace is required")
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Queue <= 0 {
		opts.Queue = 256
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.Results <= 0 {
		opts.Results = 512
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Done == nil {
		opts.Done = func(Request, *Result) {}
	}
	return &Previewer{opts: opts, wake: make(chan struct{}, 1), running: map[string]*job{},
		results: map[string]*Result{}, cache: map[string]*Result{}}, nil
}

// Submit queues a request and returns where it stands. A request for the
// head already queued or running for the same pull request is that one; a
// newer head replaces a queued older one and cancels a running one. A
// request with Refused set is answered at once, without a fetch.
func (p *Previewer) Submit(ctx context.Context, req Request) (*Result, error) {
	req.SHA = strings.ToLower(req.SHA)
	if req.Refused != "" {
		res := &Result{Cluster: p.opts.Cluster, SHA: req.SHA, Ref: req.Ref, Provider: req.Provider, Number: req.Number, URL: req.URL,
			State: Refused, Reason: req.Refused, Started: p.opts.Now(), Finished: p.opts.Now(), Against: map[string]string{}}
		for _, ns := range p.opts.Namespaces {
			res.Against[ns], _ = p.opts.Live(ns)
		}
		p.keep(res)
		p.opts.Done(req, res)
		return res, nil
	}
	if req.SHA == "" || req.Ref == "" {
		// Asked through the API: learn the sha now, so the answer names
		// the preview to look at.
		sha, err := p.fetchGivingWay(ctx, nil, req)
		switch {
		case errors.Is(err, gitsource.ErrUnknownRevision):
			return nil, fmt.Errorf("%w: %v", ErrNotFound, err)
		case errors.Is(err, gitsource.ErrBadRef):
			return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
		case err != nil:
			return nil, err
		}
		req.SHA = sha
	}
	p.mu.Lock()
	if r, ok := p.inFlight(req); ok {
		p.mu.Unlock()
		return r, nil
	}
	if len(p.queue) >= p.opts.Queue {
		p.mu.Unlock()
		return nil, ErrBusy
	}
	p.mu.Unlock()
	if p.opts.Journal != nil {
		if err := p.opts.Journal.Add(ctx, req); err != nil {
			return nil, err
		}
	}
	return p.enqueue(req), nil
}

// inFlight is the state of req when it is queued or running already; p.mu held.
func (p *Previewer) inFlight(req Request) (*Result, bool) {
	if req.SHA == "" {
		return nil, false
	}
	for _, j := range p.queue {
		if j.req.Key() == req.Key() && j.req.SHA == req.SHA {
			return p.placeholder(req, Queued), true
		}
	}
	if j, ok := p.running[req.Key()]; ok && j.req.SHA == req.SHA {
		return p.placeholder(req, Running), true
	}
	return nil, false
}

func (p *Previewer) enqueue(req Request) *Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	if j, ok := p.running[req.Key()]; ok && (req.SHA == "" || j.req.SHA != req.SHA) {
		j.superseded = true
		if j.cancel != nil { // nil until runJob starts it, which looks at superseded
			j.cancel()
		}
		p.opts.Logger.Info("preview superseded by a newer head", "request", req.Key(), "sha", j.req.SHA, "by", req.SHA)
	}
	res := p.placeholder(req, Queued)
	for _, j := range p.queue {
		if j.req.Key() == req.Key() {
			j.req = req // the older head is never previewed
			return res
		}
	}
	p.queue = append(p.queue, &job{req: req})
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return res
}

// placeholder is the result of a request under way; p.mu held.
func (p *Previewer) placeholder(req Request, state string) *Result {
	res := &Result{Cluster: p.opts.Cluster, SHA: req.SHA, Ref: req.Ref, Provider: req.Provider, Number: req.Number, URL: req.URL,
		State: state, Started: p.opts.Now()}
	if req.SHA != "" {
		if old, ok := p.results[req.SHA]; !ok || !old.Final() {
			p.keepLocked(res)
		}
	}
	return res
}

// Run works the queue with Options.Workers previews at once until ctx
// ends. Requests the Journal holds are queued at the start and looked
// for again every PendingEvery: requests another replica took, and
// those of a previous leader.
func (p *Previewer) Run(ctx context.Context) error {
	p.pending(ctx)
	var wg sync.WaitGroup
	for range p.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.work(ctx)
		}()
	}
	if p.opts.Journal != nil {
		t := time.NewTicker(PendingEvery)
		defer t.Stop()
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case <-t.C:
				p.pending(ctx)
			}
		}
	}
	wg.Wait()
	return nil
}

// PendingEvery is how often Run looks for requests in the Journal.
const PendingEvery = 10 * time.Second

// pending queues the Journal's requests not queued or running here.
func (p *Previewer) pending(ctx context.Context) {
	if p.opts.Journal == nil {
		return
	}
	reqs, err := p.opts.Journal.Pending(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.opts.Logger.Warn("cannot read the previews not answered yet", "err", err)
		}
		return
	}
	for _, r := range reqs {
		p.mu.Lock()
		_, known := p.inFlight(r)
		p.mu.Unlock()
		if !known {
			p.enqueue(r)
		}
	}
}

func (p *Previewer) work(ctx context.Context) {
	for {
		j := p.next()
		if j == nil {
			select {
			case <-ctx.Done():
				return
			case <-p.wake:
				continue
			}
		}
		select { // another worker may have work too
		case p.wake <- struct{}{}:
		default:
		}
		p.runJob(ctx, j)
		if ctx.Err() != nil {
			return
		}
	}
}

// next takes the oldest waiting request whose pull request has no preview
// running: one preview per pull request at a time.
func (p *Previewer) next() *job {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, j := range p.queue {
		if _, busy := p.running[j.req.Key()]; busy {
			continue
		}
		p.queue = append(p.queue[:i:i], p.queue[i+1:]...)
		p.running[j.req.Key()] = j
		return j
	}
	return nil
}

func (p *Previewer) runJob(ctx context.Context, j *job) {
	jctx, b, cancel := withBudget(ctx, p.opts.Timeout)
	p.mu.Lock()
	j.cancel = cancel
	if j.superseded {
		cancel()
	}
	if j.req.SHA != "" {
		p.keepLocked(p.placeholder(j.req, Running))
	}
	p.mu.Unlock()
	start := time.Now()
	res := p.preview(jctx, b, j.req)
	cancel()
	p.mu.Lock()
	delete(p.running, j.req.Key())
	superseded := j.superseded
	p.mu.Unlock()
	select { // a request of the same pull request may wait for this one
	case p.wake <- struct{}{}:
	default:
	}
	if superseded || ctx.Err() != nil {
		return
	}
	if timedOut(jctx) && res.State != Valid && res.State != Refused {
		res.State, res.Reason = Error, "timed out after "+p.opts.Timeout.String()
	}
	p.keep(res)
	p.opts.Logger.Info("preview made", "sha", res.SHA, "request", j.req.Key(), "state", res.State, "duration", time.Since(start).Round(time.Millisecond).String())
	p.opts.Done(j.req, res)
}

// Get is the latest result for a sha or a prefix of one (7 to 40 hex),
// final or under way; nil when none is known.
func (p *Previewer) Get(sha string) *Result {
	sha = strings.ToLower(sha)
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.results[sha]; ok {
		return r
	}
	if len(sha) < 7 {
		return nil
	}
	var found *Result
	for k, r := range p.results {
		if strings.HasPrefix(k, sha) {
			if found != nil {
				return nil
			}
			found = r
		}
	}
	return found
}

func (p *Previewer) keep(r *Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keepLocked(r)
}

func (p *Previewer) keepLocked(r *Result) {
	if r.SHA == "" {
		return
	}
	if _, ok := p.results[r.SHA]; !ok {
		p.order = append(p.order, r.SHA)
	}
	p.results[r.SHA] = r
	for len(p.order) > p.opts.Results {
		delete(p.results, p.order[0])
		p.order = p.order[1:]
	}
}

func (p *Previewer) cached(key string) *Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.cache[key]
	if !ok || p.opts.Now().Sub(r.Finished) > fresh {
		delete(p.cache, key)
		return nil
	}
	return r
}

func (p *Previewer) remember(key string, r *Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.cache) >= p.opts.Results {
		for k, old := range p.cache {
			if p.opts.Now().Sub(old.Finished) > fresh || len(p.cache) >= p.opts.Results {
				delete(p.cache, k)
			}
		}
	}
	p.cache[key] = r
}
