package preview

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/priority"
	"github.com/syncgate/syncgate/sync/render"
)

// Source is the config repo: FetchRef brings a head into the clone
// without moving the followed branch (gitsource.Source); Tree is taken
// once per namespace rendered, as its reads are bounded per Tree.
type Source interface {
	FetchRef(ctx context.Context, ref string) (string, error)
	Tree(sha string) (fs.FS, error)
}

// Renderer renders one namespace of a commit, the same as syncs use.
type Renderer interface {
	RenderContext(ctx context.Context, tree fs.FS, namespace string) ([]*unstructured.Unstructured, error)
}

// Planner previews one namespace's objects against what is live
// (apply.Applier).
type Planner interface {
	Preview(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []apply.Entry) (*apply.Plan, error)
}

// Live says which commit runs in namespace and its inventory (from its
// Version), or "" and nil when none was applied.
type Live func(namespace string) (applied string, inventory []apply.Entry)

// preview makes one preview; it never writes to the cluster.
func (p *Previewer) preview(ctx context.Context, b *budget, req Request) *Result {
	res := &Result{Cluster: p.opts.Cluster, SHA: req.SHA, Ref: req.Ref, Provider: req.Provider, Number: req.Number, URL: req.URL, Started: p.opts.Now()}
	sha, err := p.fetchGivingWay(ctx, b, req)
	if err != nil && ctx.Err() != nil {
		res.State, res.Reason = Error, err.Error()
		return res
	}
	if err != nil {
		res.State, res.Reason = Error, lifecycle.Bound("fetch: "+err.Error(), lifecycle.MaxReason)
		return res
	}
	res.SHA = sha
	against := map[string]string{}
	inventories := map[string][]apply.Entry{}
	for _, ns := range p.opts.Namespaces {
		against[ns], inventories[ns] = p.opts.Live(ns)
	}
	res.Against = against
	if hit := p.cached(cacheKey(sha, against)); hit != nil {
		return hit
	}
	for _, ns := range p.opts.Namespaces {
		// A Tree of its own for each namespace, as a sync takes: what a
		// Tree bounds (gitsource.MaxLinkSteps) is one namespace's render,
		// so one namespace's links never spend another's.
		tree, err := p.opts.Source.Tree(sha)
		if err != nil {
			res.State, res.Reason = Error, lifecycle.Bound("read commit: "+err.Error(), lifecycle.MaxReason)
			return res
		}
		res.Namespaces = append(res.Namespaces, p.namespace(ctx, b, tree, ns, inventories[ns]))
	}
	res.State = Valid
	for _, n := range res.Namespaces {
		switch {
		case n.State == Refused:
			res.State = Refused
		case n.State == Error && res.State == Valid:
			res.State = Error
		}
	}
	res.Finished = p.opts.Now()
	if ctx.Err() == nil && res.State != Error {
		p.remember(cacheKey(sha, against), res)
	}
	return res
}

// fetchGivingWay fetches when no sync is at work. The fetch holds the
// clone over its network round trip, so a sync that begins meanwhile
// cancels it (priority.Step), and it is made again once the sync is done.
// Every fetch a preview makes comes here, Submit's too.
func (p *Previewer) fetchGivingWay(ctx context.Context, b *budget, req Request) (string, error) {
	for {
		step, done, err := b.step(ctx, p.opts.Gate)
		if err != nil {
			return "", err
		}
		sha, err := p.fetch(step, req)
		done()
		if err != nil && ctx.Err() == nil && priority.GaveWay(step) {
			continue
		}
		return sha, err
	}
}

// fetch brings the head into the clone: through its ref when there is
// one, and then the sha the request names, which a ref that moved on may
// no longer point at.
func (p *Previewer) fetch(ctx context.Context, req Request) (string, error) {
	ref := req.Ref
	if ref == "" {
		ref = req.SHA
	}
	sha, err := p.opts.Source.FetchRef(ctx, ref)
	if err != nil {
		return "", err
	}
	if req.SHA != "" && !strings.EqualFold(sha, req.SHA) && req.Ref != "" {
		return p.opts.Source.FetchRef(ctx, req.SHA)
	}
	return sha, nil
}

func (p *Previewer) namespace(ctx context.Context, b *budget, tree fs.FS, ns string, inventory []apply.Entry) *Namespace {
	n := &Namespace{Namespace: ns}
	if err := b.wait(ctx, p.opts.Gate); err != nil {
		n.State, n.Reason = Error, err.Error()
		return n
	}
	objs, err := p.opts.Renderer.RenderContext(ctx, tree, ns)
	if err != nil {
		var refusal *render.Error
		if errors.As(err, &refusal) {
			n.State, n.Reason = Refused, lifecycle.Bound(err.Error(), lifecycle.MaxReason)
			n.Refusals = []Refusal{{File: refusal.File, Object: refusal.Object, Message: lifecycle.Bound(refusal.Err.Error(), lifecycle.MaxReason)}}
			return n
		}
		n.State, n.Reason = Error, lifecycle.Bound("render: "+err.Error(), lifecycle.MaxReason)
		return n
	}
	if err := b.wait(ctx, p.opts.Gate); err != nil {
		n.State, n.Reason = Error, err.Error()
		return n
	}
	plan, err := p.opts.Planner.Preview(ctx, ns, objs, inventory)
	var refused *apply.ValidationError
	switch {
	case errors.As(err, &refused):
		var msgs []string
		for _, o := range refused.Objects {
			msg := typedPatch.ReplaceAllString(o.Err.Error(), "")
			n.Refusals = append(n.Refusals, Refusal{Object: o.Object.String(), Message: lifecycle.Bound(msg, lifecycle.MaxReason)})
			msgs = append(msgs, o.Object.String()+": "+msg)
		}
		// The objects and fields first: a status shows 140 characters.
		n.State, n.Reason = Refused, lifecycle.Bound(strings.Join(msgs, "; "), lifecycle.MaxReason)
	case err != nil:
		n.State, n.Reason = Error, lifecycle.Bound(fmt.Sprintf("dry run: %v", err), lifecycle.MaxReason)
	default:
		n.State, n.Plan = Valid, plan
	}
	return n
}

// typedPatch is the preamble of the API server's refusal of a value of the
// wrong type, which names the object again before naming the field.
var typedPatch = regexp.MustCompile(`failed to create typed patch object \([^)]*\): `)

// cacheKey is a sha and the commits it was judged against: a preview
// stays true until a namespace runs another commit.
func cacheKey(sha string, against map[string]string) string {
	names := make([]string, 0, len(against))
	for ns := range against {
		names = append(names, ns)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(sha)
	for _, ns := range names {
		b.WriteString("|" + ns + "=" + against[ns])
	}
	return b.String()
}

// fresh is how long a cached preview is reused: live objects can be
// edited by hand between two syncs, so not forever.
const fresh = 10 * time.Minute
