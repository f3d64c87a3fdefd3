package clusterwide

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// GrantsFor is how long an answer of the API server about what syncgate
// may watch is kept: a ClusterRole granted or taken back is followed
// within it.
const GrantsFor = 5 * time.Minute

// Grants remembers which resources syncgate's own identity may list and
// watch in every namespace (a SelfSubjectAccessReview per verb). It is
// safe for concurrent use.
type Grants struct {
	own dynamic.Interface
	ttl time.Duration
	log *slog.Logger

	mu    sync.Mutex
	byGVR map[schema.GroupVersionResource]grant
	// asking holds the question in flight about a resource: callers
	// asking together ask once.
	asking map[schema.GroupVersionResource]*question
}

type grant struct {
	ok bool
	at time.Time
}

// NewGrants asks as own, keeping each answer ttl (GrantsFor when 0). With
// a nil own every resource is watched per namespace.
func NewGrants(own dynamic.Interface, ttl time.Duration, log *slog.Logger) *Grants {
	if ttl <= 0 {
		ttl = GrantsFor
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Grants{own: own, ttl: ttl, log: log, byGVR: map[schema.GroupVersionResource]grant{}, asking: map[schema.GroupVersionResource]*question{}}
}

var reviewGVR = schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "selfsubjectaccessreviews"}

// May tells whether gvr is watched once for every namespace, as syncgate
// itself; a question left unanswered says no, and is asked again next
// time.
func (g *Grants) May(ctx context.Context, gvr schema.GroupVersionResource) bool {
	may, _ := g.Ask(ctx, gvr)
	return may
}

// Ask is May telling an answer from a question left unanswered (the API
// server not answering, ctx ended): false and nil is a refusal, an error
// says nothing of what syncgate may do. Answers are kept, errors not:
// the next caller asks again.
func (g *Grants) Ask(ctx context.Context, gvr schema.GroupVersionResource) (bool, error) {
	if g == nil || g.own == nil {
		return false, nil
	}
	g.mu.Lock()
	got, ok := g.byGVR[gvr]
	if ok && time.Since(got.at) < g.ttl {
		g.mu.Unlock()
		return got.ok, nil
	}
	q, asked := g.asking[gvr]
	if !asked {
		q = &question{done: make(chan struct{})}
		g.asking[gvr] = q
		// The question is everyone's who waits for it: it is not
		// given up with the context of whoever put it.
		go g.ask(context.WithoutCancel(ctx), gvr, q)
	} else {
		q.waiting++
	}
	g.mu.Unlock()
	select {
	case <-q.done:
		return q.may, q.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// question is one put to the API server; those asking together wait for
// its answer.
type question struct {
	done    chan struct{}
	may     bool
	err     error
	waiting int // callers besides the one who asked
}

// askFor bounds a question of grants, whoever waits for it.
const askFor = 30 * time.Second

// ask puts q about gvr to the API server, within askFor.
func (g *Grants) ask(ctx context.Context, gvr schema.GroupVersionResource, q *question) {
	ctx, cancel := context.WithTimeout(ctx, askFor)
	defer cancel()
	q.may = true
	for _, verb := range []string{"list", "watch"} {
		allowed, err := g.review(ctx, verb, gvr)
		if err != nil {
			q.may, q.err = false, fmt.Errorf("may syncgate %s %s in every namespace: %w", verb, gvr.Resource, err)
			break
		}
		q.may = q.may && allowed
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.asking, gvr)
	close(q.done)
	if q.err != nil {
		g.log.Warn("cannot tell whether syncgate may watch a kind in every namespace", "resource", gvr.Resource, "err", q.err)
		return
	}
	g.byGVR[gvr] = grant{ok: q.may, at: time.Now()}
}

// Forget drops what was said of gvr, after a watch as syncgate was
// refused: the next caller asks again rather than failing until the
// answer ages.
func (g *Grants) Forget(gvr schema.GroupVersionResource) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.byGVR, gvr)
}

func (g *Grants) review(ctx context.Context, verb string, gvr schema.GroupVersionResource) (bool, error) {
	review := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
		"spec": map[string]any{"resourceAttributes": map[string]any{"verb": verb, "group": gvr.Group, "resource": gvr.Resource}},
	}}
	res, err := g.own.Resource(reviewGVR).Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	allowed, _, _ := unstructured.NestedBool(res.Object, "status", "allowed")
	return allowed, nil
}
