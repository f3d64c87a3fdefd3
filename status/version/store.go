package version

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

// ErrNotFound is returned by UpdateStatus when the namespace has no Version.
var ErrNotFound = errors.New("version not found")

// StoreOptions tune a Store; the zero value is ready to use.
//
// +kubebuilder:object:generate=false
type StoreOptions struct {
	// FieldManager names syncgate in managedFields (default "syncgate").
	FieldManager string
	// Backoff paces retries of a write that lost a conflict (default:
	// about two seconds, see defaultBackoff).
	Backoff wait.Backoff
}

// defaultBackoff retries a conflicting write for about two seconds: the
// syncer, the outbox and a new leader taking over can all write one status.
func defaultBackoff() wait.Backoff {
	return wait.Backoff{Steps: 12, Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 0.5, Cap: 500 * time.Millisecond}
}

// Store reads and writes the Version of each namespace through the dynamic
// client, so no generated clientset is needed.
//
// +kubebuilder:object:generate=false
type Store struct {
	dyn  dynamic.Interface
	opts StoreOptions
}

// NewStore uses dyn for every call. At most one StoreOptions may be given.
func NewStore(dyn dynamic.Interface, opts ...StoreOptions) *Store {
	var o StoreOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.FieldManager == "" {
		o.FieldManager = "syncgate"
	}
	if o.Backoff.Steps == 0 {
		o.Backoff = defaultBackoff()
	}
	return &Store{dyn: dyn, opts: o}
}

// FromUnstructured converts what the API or an informer returns.
func FromUnstructured(u *unstructured.Unstructured) (*Version, error) {
	v := &Version{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, v); err != nil {
		return nil, fmt.Errorf("decode Version %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return v, nil
}

// ToUnstructured converts v for the dynamic client, with its kind set.
func ToUnstructured(v *Version) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(v)
	if err != nil {
		return nil, fmt.Errorf("encode Version %s/%s: %w", v.Namespace, v.Name, err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(Kind)
	return u, nil
}

func (s *Store) client(namespace string) dynamic.ResourceInterface {
	return s.dyn.Resource(Resource).Namespace(namespace)
}

// Get returns the namespace's Version, or nil and no error when there is none.
func (s *Store) Get(ctx context.Context, namespace string) (*Version, error) {
	u, err := s.client(namespace).Get(ctx, Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get Version %s/%s: %w", namespace, Name, err)
	}
	return FromUnstructured(u)
}

// Ensure creates the namespace's Version when missing, and brings its spec
// to spec when it differs; the status is left alone.
func (s *Store) Ensure(ctx context.Context, namespace string, spec VersionSpec) (*Version, error) {
	var out *Version
	err := s.onConflict(func() error {
		v, err := s.Get(ctx, namespace)
		if err != nil {
			return err
		}
		if v == nil {
			out, err = s.create(ctx, namespace, spec)
			if apierrors.IsAlreadyExists(err) {
				// Another writer created it between our read and create:
				// read again, as after a conflict.
				return apierrors.NewConflict(Resource.GroupResource(), Name, err)
			}
			return err
		}
		if v.Spec == spec {
			out = v
			return nil
		}
		v.Spec = spec
		out, err = s.update(ctx, v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ensure Version %s/%s: %w", namespace, Name, err)
	}
	return out, nil
}

func (s *Store) create(ctx context.Context, namespace string, spec VersionSpec) (*Version, error) {
	u, err := ToUnstructured(&Version{ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: namespace}, Spec: spec})
	if err != nil {
		return nil, err
	}
	created, err := s.client(namespace).Create(ctx, u, metav1.CreateOptions{FieldManager: s.opts.FieldManager})
	if err != nil {
		return nil, err
	}
	return FromUnstructured(created)
}

// update writes v (its status with subresource "status") and returns what
// the API server stored.
func (s *Store) update(ctx context.Context, v *Version, subresource ...string) (*Version, error) {
	u, err := ToUnstructured(v)
	if err != nil {
		return nil, err
	}
	updated, err := s.client(v.Namespace).Update(ctx, u, metav1.UpdateOptions{FieldManager: s.opts.FieldManager}, subresource...)
	if err != nil {
		return nil, err
	}
	return FromUnstructured(updated)
}

// onConflict runs fn again after each conflict (see OnConflict).
func (s *Store) onConflict(fn func() error) error {
	return OnConflict(s.opts.Backoff, fn)
}

// OnConflict runs fn again after each conflict, as retry.RetryOnConflict,
// and returns fn's last error. RetryOnConflict alone returns nil when fn
// fails with an error that wraps context.Canceled or DeadlineExceeded
// (it takes them for its own wait being interrupted), which made a write
// under a cancelled context look done. Every read-modify-write of
// syncgate's own records goes through it.
func OnConflict(backoff wait.Backoff, fn func() error) error {
	var last error
	err := retry.RetryOnConflict(backoff, func() error {
		last = fn()
		return last
	})
	if err == nil {
		return last
	}
	return err
}

// UpdateStatus applies fn to the latest status and writes it through the
// status subresource, reading again and re-applying fn when another writer
// got there first. fn may run more than once and must only change st. An
// error from fn aborts the update and is returned as is (wrapped).
func (s *Store) UpdateStatus(ctx context.Context, namespace string, fn func(*VersionStatus) error) (*Version, error) {
	var out *Version
	err := s.onConflict(func() error {
		v, err := s.Get(ctx, namespace)
		if err != nil {
			return err
		}
		if v == nil {
			return ErrNotFound
		}
		if err := fn(&v.Status); err != nil {
			return err
		}
		out, err = s.update(ctx, v, "status")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update status of Version %s/%s: %w", namespace, Name, err)
	}
	return out, nil
}

// UpdateStatusFrom is UpdateStatus starting from last, the Version as the
// caller last read or wrote it: fn is applied to a copy of its status and
// written at once, with no read first. Only when another writer got there
// since (a conflict) is the Version read again, as UpdateStatus does. The
// writer that keeps the Version it last wrote so saves a read per write.
// last is not changed.
func (s *Store) UpdateStatusFrom(ctx context.Context, last *Version, fn func(*VersionStatus) error) (*Version, error) {
	if last == nil || last.ResourceVersion == "" {
		return nil, fmt.Errorf("update status of Version: no Version to start from")
	}
	v := last.DeepCopy()
	if err := fn(&v.Status); err != nil {
		return nil, fmt.Errorf("update status of Version %s/%s: %w", v.Namespace, Name, err)
	}
	out, err := s.update(ctx, v, "status")
	switch {
	case err == nil:
		return out, nil
	case apierrors.IsConflict(err):
		return s.UpdateStatus(ctx, last.Namespace, fn)
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("update status of Version %s/%s: %w", v.Namespace, Name, ErrNotFound)
	}
	return nil, fmt.Errorf("update status of Version %s/%s: %w", v.Namespace, Name, err)
}

// List returns the reports still owed in namespace (none when it has no
// Version yet). With Update it makes a Store the outbox's ledger.
func (s *Store) List(ctx context.Context, namespace string) ([]OwedReport, error) {
	v, err := s.Get(ctx, namespace)
	if err != nil || v == nil {
		return nil, err
	}
	return v.Status.Owed, nil
}

// Update is UpdateStatus for callers that need no result.
func (s *Store) Update(ctx context.Context, namespace string, fn func(*VersionStatus) error) error {
	_, err := s.UpdateStatus(ctx, namespace, fn)
	return err
}
