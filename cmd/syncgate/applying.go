package main

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/apply"
)

// applyingAtOnce bounds the namespaces that dry-run and apply at once.
// Each apply sends up to apply.Options.Concurrency requests at once, and
// every request goes through one rate limiter (KUBE_API_QPS): in the first
// sync of 100 namespaces × 100 objects all 100 applied together, and up to
// 8,900 goroutines waited on that limiter or on the API server, each with
// its stack and the object it was sending or had been answered (the heap
// in use was 45–90 MB, the anonymous memory 174 MB). Eight namespaces at
// once keep the limiter busy; the others wait their turn before sending
// anything, and a namespace done applying starts its rollout wait sooner.
const applyingAtOnce = 8

// namespaceApplier is what the syncer applies each namespace with
// (apply.Applier).
type namespaceApplier interface {
	Apply(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error)
	ApplyKeyed(ctx context.Context, namespace string, objs []*unstructured.Unstructured, keys []string, prev []apply.Entry) (*apply.Result, error)
	Drift(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error)
	Owned(ctx context.Context, namespace string) ([]apply.Entry, error)
}

// boundedApplier lets at most cap(slots) namespaces apply (or correct
// drift) at once.
type boundedApplier struct {
	namespaceApplier
	slots chan struct{}
}

func newBoundedApplier(a namespaceApplier, atOnce int) *boundedApplier {
	return &boundedApplier{namespaceApplier: a, slots: make(chan struct{}, atOnce)}
}

func (b *boundedApplier) Apply(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error) {
	if err := b.take(ctx); err != nil {
		return nil, err
	}
	defer b.give()
	return b.namespaceApplier.Apply(ctx, namespace, objs, prev)
}

func (b *boundedApplier) ApplyKeyed(ctx context.Context, namespace string, objs []*unstructured.Unstructured, keys []string, prev []apply.Entry) (*apply.Result, error) {
	if err := b.take(ctx); err != nil {
		return nil, err
	}
	defer b.give()
	return b.namespaceApplier.ApplyKeyed(ctx, namespace, objs, keys, prev)
}

func (b *boundedApplier) Drift(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error) {
	if err := b.take(ctx); err != nil {
		return nil, err
	}
	defer b.give()
	return b.namespaceApplier.Drift(ctx, namespace, objs, prev)
}

func (b *boundedApplier) take(ctx context.Context) error {
	select {
	case b.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *boundedApplier) give() { <-b.slots }
