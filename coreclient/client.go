package coreclient

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// Client is a client of the core/v1 API group. Its methods have the
// signatures of client-go's typed clients, so that an interface declared
// by a caller is met by both.
type Client struct {
	rest   rest.Interface
	scheme *runtime.Scheme
	params runtime.ParameterCodec
}

// New builds a Client from rc (its QPS, burst and user agent kept).
func New(rc *rest.Config) (*Client, error) {
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("core/v1 scheme: %w", err)
	}
	cfg := rest.CopyConfig(rc)
	cfg.APIPath = "/api"
	cfg.GroupVersion = &corev1.SchemeGroupVersion
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(s).WithoutConversion()
	cfg.ContentType = runtime.ContentTypeJSON
	cfg.AcceptContentTypes = runtime.ContentTypeJSON
	rc2, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("core/v1 client: %w", err)
	}
	return &Client{rest: rc2, scheme: s, params: runtime.NewParameterCodec(s)}, nil
}

// Scheme holds core/v1 and nothing else: enough for an event recorder,
// which is given references to the objects its Events are about.
func (c *Client) Scheme() *runtime.Scheme { return c.scheme }

// Secrets are the Secrets of one namespace.
func (c *Client) Secrets(namespace string) Secrets { return Secrets{in{c, namespace}} }

// ConfigMaps are the ConfigMaps of one namespace.
func (c *Client) ConfigMaps(namespace string) ConfigMaps { return ConfigMaps{in{c, namespace}} }

// in is a namespace's objects of one kind.
type in struct {
	c  *Client
	ns string
}

func (n in) get(ctx context.Context, resource, name string, opts *metav1.GetOptions, out runtime.Object) error {
	return n.c.rest.Get().Namespace(n.ns).Resource(resource).Name(name).
		VersionedParams(opts, n.c.params).Do(ctx).Into(out)
}

// Secrets reads the Secrets of one namespace.
type Secrets struct{ in }

func (s Secrets) Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.Secret, error) {
	out := &corev1.Secret{}
	return out, s.get(ctx, "secrets", name, &opts, out)
}

// ConfigMaps reads and writes the ConfigMaps of one namespace.
type ConfigMaps struct{ in }

func (m ConfigMaps) Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.ConfigMap, error) {
	out := &corev1.ConfigMap{}
	return out, m.get(ctx, "configmaps", name, &opts, out)
}

func (m ConfigMaps) Create(ctx context.Context, cm *corev1.ConfigMap, opts metav1.CreateOptions) (*corev1.ConfigMap, error) {
	out := &corev1.ConfigMap{}
	err := m.c.rest.Post().Namespace(m.ns).Resource("configmaps").
		VersionedParams(&opts, m.c.params).Body(cm).Do(ctx).Into(out)
	return out, err
}

func (m ConfigMaps) Update(ctx context.Context, cm *corev1.ConfigMap, opts metav1.UpdateOptions) (*corev1.ConfigMap, error) {
	out := &corev1.ConfigMap{}
	err := m.c.rest.Put().Namespace(m.ns).Resource("configmaps").Name(cm.Name).
		VersionedParams(&opts, m.c.params).Body(cm).Do(ctx).Into(out)
	return out, err
}

// EventSink writes Events as client-go's event recorder asks (its
// record.EventSink), each in the namespace the Event names; ctx bounds
// every write.
func (c *Client) EventSink(ctx context.Context) EventSink { return EventSink{c: c, ctx: ctx} }

// EventSink writes the Events of an event broadcaster.
type EventSink struct {
	c   *Client
	ctx context.Context
}

func (e EventSink) Create(ev *corev1.Event) (*corev1.Event, error) {
	out := &corev1.Event{}
	err := e.c.rest.Post().Namespace(ev.Namespace).Resource("events").Body(ev).Do(e.ctx).Into(out)
	return out, err
}

func (e EventSink) Update(ev *corev1.Event) (*corev1.Event, error) {
	out := &corev1.Event{}
	err := e.c.rest.Put().Namespace(ev.Namespace).Resource("events").Name(ev.Name).Body(ev).Do(e.ctx).Into(out)
	return out, err
}

// Patch applies data, a strategic merge patch as the recorder makes when
// it counts an Event again, to the Event ev names.
func (e EventSink) Patch(ev *corev1.Event, data []byte) (*corev1.Event, error) {
	out := &corev1.Event{}
	err := e.c.rest.Patch(types.StrategicMergePatchType).Namespace(ev.Namespace).Resource("events").Name(ev.Name).
		Body(data).Do(e.ctx).Into(out)
	return out, err
}
