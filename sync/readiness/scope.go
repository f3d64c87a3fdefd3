package readiness

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/pager"

	"github.com/syncgate/syncgate/sync/apply"
)

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
