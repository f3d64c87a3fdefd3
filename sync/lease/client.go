package lease

import (
	"context"
	"fmt"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
)

// Resource is the Leases' API resource.
var Resource = coordinationv1.SchemeGroupVersion.WithResource("leases")

// Client reads and writes the Leases of one namespace.
type Client struct {
	res       dynamic.ResourceInterface
	namespace string
}

// NewClient is a Client of the Leases in namespace.
func NewClient(dyn dynamic.Interface, namespace string) *Client {
	return &Client{res: dyn.Resource(Resource).Namespace(namespace), namespace: namespace}
}

// Namespace is where the Client's Leases are.
func (c *Client) Namespace() string { return c.namespace }

func (c *Client) Get(ctx context.Context, name string) (*coordinationv1.Lease, error) {
	u, err := c.res.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return fromUnstructured(u)
}

func (c *Client) List(ctx context.Context) ([]coordinationv1.Lease, error) {
	list, err := c.res.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]coordinationv1.Lease, 0, len(list.Items))
	for i := range list.Items {
		l, err := fromUnstructured(&list.Items[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *l)
	}
	return out, nil
}

// Create makes l, which must not exist yet.
func (c *Client) Create(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	return c.write(l, func(u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
		return c.res.Create(ctx, u, metav1.CreateOptions{})
	})
}

// Update writes l if it is still at l's resourceVersion (a conflict error
// otherwise).
func (c *Client) Update(ctx context.Context, l *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	return c.write(l, func(u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
		return c.res.Update(ctx, u, metav1.UpdateOptions{})
	})
}

func (c *Client) write(l *coordinationv1.Lease, w func(*unstructured.Unstructured) (*unstructured.Unstructured, error)) (*coordinationv1.Lease, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(l)
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", l.Name, err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(coordinationv1.SchemeGroupVersion.String())
	u.SetKind("Lease")
	u.SetNamespace(c.namespace)
	if u, err = w(u); err != nil {
		return nil, err
	}
	return fromUnstructured(u)
}

func fromUnstructured(u *unstructured.Unstructured) (*coordinationv1.Lease, error) {
	l := &coordinationv1.Lease{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, l); err != nil {
		return nil, fmt.Errorf("lease %s: %w", u.GetName(), err)
	}
	return l, nil
}

// Holder is who holds l, "" when nobody does.
func Holder(l *coordinationv1.Lease) string {
	if l == nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}
