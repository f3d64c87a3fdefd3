package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/syncgate/syncgate/sync/kinds"
)

// Clients are the API clients namespaces are worked on with. Discovery and
// the RESTMapper are syncgate's own, shared by every namespace. The
// objects of namespace ns are read and written as the ServiceAccount
// ns/<serviceAccount> (impersonation, as Flux's serviceAccountName does),
// so that what a commit can touch is what RBAC grants that ServiceAccount
// in the cluster, not what syncgate itself may do; the original operator
// ran one ServiceAccount per namespace for the same reason. Each
// namespace's clients are built once. Without a ServiceAccount every
// namespace is worked on with syncgate's own identity: nothing but render
// then confines a commit.
type Clients struct {
	cfg            *rest.Config
	serviceAccount string
	mapper         *kinds.Mapper
	own            *identity

	mu   sync.Mutex
	byNS map[string]*identity
}

// identity is the clients of one namespace.
type identity struct {
	dyn  dynamic.Interface
	meta metadata.Interface
}

// NewClients builds syncgate's own clients from cfg; the clients of each
// namespace are built when first asked for. Every client shares one rate
// limiter, cfg's QPS and Burst, however many namespaces there are.
func NewClients(cfg *rest.Config, serviceAccount string) (*Clients, error) {
	if serviceAccount != "" {
		if errs := validation.IsDNS1123Subdomain(serviceAccount); len(errs) > 0 {
			return nil, fmt.Errorf("service account %q: %s", serviceAccount, strings.Join(errs, "; "))
		}
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.RateLimiter == nil && cfg.QPS >= 0 {
		qps, burst := cfg.QPS, cfg.Burst
		if qps == 0 {
			qps = rest.DefaultQPS
		}
		if burst == 0 {
			burst = rest.DefaultBurst
		}
		cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(qps, burst)
	}
	mapper, err := kinds.New(cfg)
	if err != nil {
		return nil, err
	}
	own, err := newIdentity(cfg)
	if err != nil {
		return nil, err
	}
	return &Clients{
		cfg: cfg, serviceAccount: serviceAccount, mapper: mapper, own: own,
		byNS: map[string]*identity{},
	}, nil
}

func newIdentity(cfg *rest.Config) (*identity, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &identity{dyn: dyn, meta: md}, nil
}

// User is who namespace's objects are worked on as: its ServiceAccount's
// user name, or "" for syncgate's own identity.
func (c *Clients) User(namespace string) string {
	if c.serviceAccount == "" {
		return ""
	}
	return "system:serviceaccount:" + namespace + ":" + c.serviceAccount
}

// Dynamic is the client namespace's objects are read and written with.
func (c *Clients) Dynamic(namespace string) (dynamic.Interface, error) {
	id, err := c.of(namespace)
	if err != nil {
		return nil, err
	}
	return id.dyn, nil
}

var errNoNamespace = errors.New("no namespace to act as: objects are worked on as a namespace's ServiceAccount")

func (c *Clients) of(namespace string) (*identity, error) {
	if c.serviceAccount == "" {
		return c.own, nil
	}
	if namespace == "" {
		return nil, errNoNamespace
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.byNS[namespace]; ok {
		return id, nil
	}
	cfg := rest.CopyConfig(c.cfg)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: c.User(namespace)}
	id, err := newIdentity(cfg)
	if err != nil {
		return nil, fmt.Errorf("clients of %s: %w", namespace, err)
	}
	c.byNS[namespace] = id
	return id, nil
}

// Mapping resolves gvk. Discovery is cached, so a kind unknown to the
// cache refreshes it once: its CRD may have been created since
// (kinds.Mapper).
func (c *Clients) Mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	return c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
}

// LoadKinds loads discovery now rather than at the first mapping: an
// agent checks at start that it can read what the API server serves.
func (c *Clients) LoadKinds(ctx context.Context) error {
	return c.mapper.Load(ctx)
}
