package version

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

// Store reads and writes the Version of each namespace.
type Store struct {
	dyn dynamic.Interface
}

// NewStore uses dyn for every call.
func NewStore(dyn dynamic.Interface) *Store { return &Store{dyn: dyn} }

// FromUnstructured converts what the API or an informer returns.
func FromUnstructured(u *unstructured.Unstructured) (*Version, error) {
	v := &Version{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, v); err != nil {
		return nil, fmt.Errorf("decode Version %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return v, nil
}

func toUnstructured(v *Version) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(v)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(Kind)
	return u, nil
}

// Get returns the namespace's Version, or nil when there is none.
func (s *Store) Get(ctx context.Context, namespace string) (*Version, error) {
	u, err := s.dyn.Resource(Resource).Namespace(namespace).Get(ctx, Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get Version %s/%s: %w", namespace, Name, err)
	}
	return FromUnstructured(u)
}

// Ensure creates the namespace's Version when missing and keeps its spec.
func (s *Store) Ensure(ctx context.Context, namespace string, spec VersionSpec) (*Version, error) {
	v, err := s.Get(ctx, namespace)
	if err != nil {
		return nil, err
	}
	if v == nil {
		u, err := toUnstructured(&Version{ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: namespace}, Spec: spec})
		if err != nil {
			return nil, err
		}
		created, err := s.dyn.Resource(Resource).Namespace(namespace).Create(ctx, u, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return s.Ensure(ctx, namespace, spec)
		}
		if err != nil {
			return nil, fmt.Errorf("create Version %s/%s: %w", namespace, Name, err)
		}
		return FromUnstructured(created)
	}
	if v.Spec == spec {
		return v, nil
	}
	v.Spec = spec
	u, err := toUnstructured(v)
	if err != nil {
		return nil, err
	}
	updated, err := s.dyn.Resource(Resource).Namespace(namespace).Update(ctx, u, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("update Version %s/%s: %w", namespace, Name, err)
	}
	return FromUnstructured(updated)
}

// UpdateStatus applies fn to the latest status and writes it through the
// status subresource, retrying on conflicts.
func (s *Store) UpdateStatus(ctx context.Context, namespace string, fn func(*VersionStatus) error) (*Version, error) {
	var out *Version
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		v, err := s.Get(ctx, namespace)
		if err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("version %s/%s does not exist", namespace, Name)
		}
		if err := fn(&v.Status); err != nil {
			return err
		}
		u, err := toUnstructured(v)
		if err != nil {
			return err
		}
		updated, err := s.dyn.Resource(Resource).Namespace(namespace).UpdateStatus(ctx, u, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		out, err = FromUnstructured(updated)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update status of Version %s/%s: %w", namespace, Name, err)
	}
	return out, nil
}
