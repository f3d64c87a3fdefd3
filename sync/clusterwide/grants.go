package clusterwide

import (
	"context"
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
	// asking closes when the question in flight about a resource is
	// answered: callers asking together ask once.
	asking map[schema.GroupVersionResource]chan struct{}
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
	return &Grants{own: own, ttl: ttl, log: log, byGVR: map[schema.GroupVersionResource]grant{}, asking: map[schema.GroupVersionResource]chan struct{}{}}
}

var reviewGVR = schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "selfsubjectaccessreviews"}

// May tells whether gvr is watched once for every namespace, as syncgate
// itself. An unanswered question is asked again next time.
func (g *Grants) May(ctx context.Context, gvr schema.GroupVersionResource) bool {
	if g == nil || g.own == nil {
		return false
	}
	for {
		g.mu.Lock()
		got, ok := g.byGVR[gvr]
		if ok && time.Since(got.at) < g.ttl {
			g.mu.Unlock()
			return got.ok
		}
		in, asked := g.asking[gvr]
		if !asked {
			in = make(chan struct{})
			g.asking[gvr] = in
			g.mu.Unlock()
			return g.ask(ctx, gvr, in)
		}
		g.mu.Unlock()
		select {
		case <-in:
		case <-ctx.Done():
			return false
		}
	}
}

// ask puts the question about gvr to the API server and closes in.
func (g *Grants) ask(ctx context.Context, gvr schema.GroupVersionResource, in chan struct{}) bool {
	may, err := true, error(nil)
	for _, verb := range []string{"list", "watch"} {
		allowed, rerr := g.review(ctx, verb, gvr)
		if rerr != nil {
			may, err = false, rerr
			break
		}
		may = may && allowed
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.asking, gvr)
	close(in)
	if err != nil {
		g.log.Warn("cannot tell whether syncgate may watch a kind in every namespace; watching it per namespace", "resource", gvr.Resource, "err", err)
		// Kept a second only: those waiting now watch per namespace
		// rather than ask at once, the next callers ask again.
		g.byGVR[gvr] = grant{ok: false, at: time.Now().Add(-g.ttl + time.Second)}
		return false
	}
	g.byGVR[gvr] = grant{ok: may, at: time.Now()}
	return may
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
