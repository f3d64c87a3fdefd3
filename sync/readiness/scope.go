package readiness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/pager"

	"github.com/syncgate/syncgate/sync/apply"
)

// grantsFor is how long an answer of the API server about what syncgate
// may watch is kept: a ClusterRole granted or taken back is followed
// within it.
const grantsFor = 5 * time.Minute

// grants remembers which resources syncgate's own identity may list and
// watch in every namespace (a SelfSubjectAccessReview each).
type grants struct {
	own dynamic.Interface
	ttl time.Duration

	mu    sync.Mutex
	byGVR map[schema.GroupVersionResource]grant
	// asking closes when the question in flight about a resource is
	// answered: rollouts starting together ask once.
	asking map[schema.GroupVersionResource]chan struct{}
}

type grant struct {
	ok bool
	at time.Time
}

func newGrants(own dynamic.Interface, ttl time.Duration) *grants {
	return &grants{own: own, ttl: ttl, byGVR: map[schema.GroupVersionResource]grant{}, asking: map[schema.GroupVersionResource]chan struct{}{}}
}

var reviewGVR = schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "selfsubjectaccessreviews"}

// clusterWide tells whether gvr is watched once for every namespace, as
// syncgate itself. An unanswered question is asked again next time.
func (g *grants) clusterWide(ctx context.Context, gvr schema.GroupVersionResource, log *slog.Logger) bool {
	if g.own == nil {
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
			return g.ask(ctx, gvr, in, log)
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
func (g *grants) ask(ctx context.Context, gvr schema.GroupVersionResource, in chan struct{}, log *slog.Logger) bool {
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
		log.Warn("cannot tell whether syncgate may watch a kind in every namespace; watching it per namespace", "resource", gvr.Resource, "err", err)
		// Kept a second only: those waiting now watch per namespace
		// rather than ask at once, the next rollouts ask again.
		g.byGVR[gvr] = grant{ok: false, at: time.Now().Add(-g.ttl + time.Second)}
		return false
	}
	g.byGVR[gvr] = grant{ok: may, at: time.Now()}
	return may
}

// forget drops what was said of gvr, after a watch as syncgate was
// refused: the next rollout asks again rather than failing until the
// answer ages.
func (g *grants) forget(gvr schema.GroupVersionResource) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.byGVR, gvr)
}

func (g *grants) review(ctx context.Context, verb string, gvr schema.GroupVersionResource) (bool, error) {
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

// ownerSelector selects the objects syncgate applied for owners (any
// managed namespace when empty).
func ownerSelector(owners []string) (string, error) {
	op, values := selection.Exists, []string(nil)
	if len(owners) > 0 {
		op, values = selection.In, append([]string(nil), owners...)
		sort.Strings(values)
	}
	req, err := labels.NewRequirement(apply.OwnerLabel, op, values)
	if err != nil {
		return "", fmt.Errorf("readiness: owners: %w", err)
	}
	return labels.NewSelector().Add(*req).String(), nil
}

// seed lists l as the Wait's namespace identity and returns the objects
// named: they are judged on the newer of this and the informer's state.
// A list the identity may not make fails the Wait; other errors are
// retried until ctx ends.
func (c *Checker) seed(ctx context.Context, dyn dynamic.Interface, l listing, names []string) (map[Object]*unstructured.Unstructured, error) {
	wanted := make(map[string]bool, len(names))
	for _, n := range names {
		wanted[n] = true
	}
	var ri dynamic.ResourceInterface = dyn.Resource(l.gvr)
	if l.namespace != "" {
		ri = dyn.Resource(l.gvr).Namespace(l.namespace)
	}
	list := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		return ri.List(ctx, opts)
	})
	for {
		found := map[Object]*unstructured.Unstructured{}
		err := list.EachListItem(ctx, metav1.ListOptions{LabelSelector: l.selector}, func(obj runtime.Object) error {
			u, ok := obj.(*unstructured.Unstructured)
			if ok && wanted[u.GetName()] {
				stripped, _ := whole.transform(u)
				found[Object{GroupKind: l.kind, Namespace: l.namespace, Name: u.GetName()}] = stripped.(*unstructured.Unstructured)
			}
			return nil
		})
		switch {
		case err == nil:
			return found, nil
		case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
			where := l.namespace
			if where == "" {
				where = "the cluster"
			}
			return nil, fmt.Errorf("readiness: list %s in %s: %w", l.gvr.Resource, where, err)
		case errors.Is(err, ctx.Err()) && ctx.Err() != nil:
			return nil, err
		}
		c.log.Info("listing what a rollout waits for failed; retrying", "resource", l.gvr.Resource, "namespace", l.namespace, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
