package main

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/apply"
)

// blockingApplier counts its calls and holds each until release closes.
type blockingApplier struct {
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func (f *blockingApplier) hold(ctx context.Context) (*apply.Result, error) {
	f.calls.Add(1)
	f.entered <- struct{}{}
	select {
	case <-f.release:
		return &apply.Result{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *blockingApplier) Apply(ctx context.Context, _ string, _ []*unstructured.Unstructured, _ []apply.Entry) (*apply.Result, error) {
	return f.hold(ctx)
}

func (f *blockingApplier) ApplyKeyed(ctx context.Context, _ string, _ []*unstructured.Unstructured, _ []string, _ []apply.Entry) (*apply.Result, error) {
	return f.hold(ctx)
}

func (f *blockingApplier) Drift(ctx context.Context, _ string, _ []*unstructured.Unstructured, _ []apply.Entry) (*apply.Result, error) {
	return f.hold(ctx)
}

func (f *blockingApplier) Owned(context.Context, string) ([]apply.Entry, error) { return nil, nil }

// While as many namespaces apply as the bound lets, another namespace's
// apply, keyed apply or drift correction sends nothing until one ends.
func TestNamespacesApplyingAtOnceAreBounded(t *testing.T) {
	f := &blockingApplier{entered: make(chan struct{}, 8), release: make(chan struct{})}
	b := newBoundedApplier(f, 1)
	first := make(chan error, 1)
	go func() {
		_, err := b.ApplyKeyed(context.Background(), "one", nil, nil, nil)
		first <- err
	}()
	<-f.entered

	waiting, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.Apply(waiting, "two", nil, nil)
	require.ErrorIs(t, err, context.Canceled)
	_, err = b.ApplyKeyed(waiting, "two", nil, nil, nil)
	require.ErrorIs(t, err, context.Canceled)
	_, err = b.Drift(waiting, "two", nil, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.EqualValues(t, 1, f.calls.Load(), "the other namespace waited for its turn")

	close(f.release)
	require.NoError(t, <-first)
	_, err = b.Drift(context.Background(), "two", nil, nil)
	require.NoError(t, err, "its turn came")
	require.EqualValues(t, 2, f.calls.Load())
}
