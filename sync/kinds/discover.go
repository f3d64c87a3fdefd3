package kinds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"slices"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apidiscoveryv2beta1 "k8s.io/api/apidiscovery/v2beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// MinKubernetes is the oldest Kubernetes whose discovery syncgate reads:
// aggregated discovery, v2beta1 from 1.27 (on by default), v2 from 1.30.
const MinKubernetes = "1.27"

// ErrNotAggregated says that the API server does not serve aggregated
// discovery: it is older than MinKubernetes, or has it turned off.
var ErrNotAggregated = errors.New("the API server does not serve aggregated discovery (apidiscovery.k8s.io v2 or v2beta1): Kubernetes " + MinKubernetes + " or later is needed")

// versions are the versions of aggregated discovery read, most preferred
// first. v2 is v2beta1 promoted unchanged, so one schema reads both.
var versions = []string{apidiscoveryv2.SchemeGroupVersion.Version, apidiscoveryv2beta1.SchemeGroupVersion.Version}

// accept asks for aggregated discovery at any of versions, in their
// order; a server that answers with anything else is refused, not read
// otherwise.
var accept = func() string {
	types := make([]string, len(versions))
	for i, v := range versions {
		types[i] = runtime.ContentTypeJSON + ";g=" + apidiscoveryv2.GroupName + ";v=" + v + ";as=APIGroupDiscoveryList"
	}
	return strings.Join(types, ",")
}()

// Resource is one resource the API server serves, at one version.
type Resource struct {
	schema.GroupVersionResource
	Kind       string
	Namespaced bool
	Verbs      []string
}

// StaleError lists the group versions the API server could not discover
// (an aggregated API whose APIService is down): what they serve is
// missing from a load, which is otherwise whole.
type StaleError struct{ GroupVersions []schema.GroupVersion }

func (e *StaleError) Error() string {
	names := make([]string, len(e.GroupVersions))
	for i, gv := range e.GroupVersions {
		names[i] = gv.String()
	}
	return "discovery of " + strings.Join(names, ", ") + " failed: stale"
}

// IsStale reports whether err says that some group versions could not be
// discovered, the others being.
func IsStale(err error) bool {
	var s *StaleError
	return errors.As(err, &s)
}

// table is one load of discovery.
type table struct {
	mapper    meta.RESTMapper
	preferred []Resource // each resource at its preferred version
	stale     *StaleError
}

// newClient is a REST client of the discovery paths, with cfg's
// transport, rate limiter and timeout.
func newClient(cfg *rest.Config) (*rest.RESTClient, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.APIPath, cfg.GroupVersion = "", nil
	s := runtime.NewScheme()
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"}) // Status, for errors
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(s).WithoutConversion()
	return rest.UnversionedRESTClientFor(cfg)
}

// load asks /api and /apis for what they serve.
func load(ctx context.Context, c rest.Interface) (*table, error) {
	var groups []apidiscoveryv2.APIGroupDiscovery
	for _, path := range []string{"/api", "/apis"} {
		l, err := get(ctx, c, path)
		if err != nil {
			return nil, err
		}
		groups = append(groups, l.Items...)
	}
	return build(groups), nil
}

func get(ctx context.Context, c rest.Interface, path string) (*apidiscoveryv2.APIGroupDiscoveryList, error) {
	var contentType string
	body, err := c.Get().AbsPath(path).SetHeader("Accept", accept).Do(ctx).ContentType(&contentType).Raw()
	if apierrors.IsNotAcceptable(err) {
		return nil, fmt.Errorf("discover %s: %w", path, ErrNotAggregated)
	}
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", path, err)
	}
	_, params, _ := mime.ParseMediaType(contentType)
	if params["g"] != apidiscoveryv2.GroupName || params["as"] != "APIGroupDiscoveryList" || !slices.Contains(versions, params["v"]) {
		return nil, fmt.Errorf("discover %s: answered as %q: %w", path, contentType, ErrNotAggregated)
	}
	l := &apidiscoveryv2.APIGroupDiscoveryList{}
	if err := json.Unmarshal(body, l); err != nil {
		return nil, fmt.Errorf("discover %s: %w", path, err)
	}
	return l, nil
}

// build reads groups, each listing its versions most preferred first.
func build(groups []apidiscoveryv2.APIGroupDiscovery) *table {
	t := &table{}
	var order []schema.GroupVersion
	var stale []schema.GroupVersion
	type entry struct {
		kind     schema.GroupVersionKind
		resource Resource
		singular string
	}
	var entries []entry
	for _, g := range groups {
		seen := map[string]bool{} // resources of g at a more preferred version
		for _, v := range g.Versions {
			gv := schema.GroupVersion{Group: g.Name, Version: v.Version}
			if v.Freshness == apidiscoveryv2.DiscoveryFreshnessStale {
				stale = append(stale, gv)
				continue
			}
			order = append(order, gv)
			for _, r := range v.Resources {
				if r.ResponseKind == nil || r.ResponseKind.Kind == "" {
					continue
				}
				res := Resource{GroupVersionResource: gv.WithResource(r.Resource), Kind: r.ResponseKind.Kind,
					Namespaced: r.Scope == apidiscoveryv2.ScopeNamespace, Verbs: r.Verbs}
				entries = append(entries, entry{kind: gv.WithKind(r.ResponseKind.Kind), resource: res, singular: r.SingularResource})
				if !seen[r.Resource] {
					seen[r.Resource] = true
					t.preferred = append(t.preferred, res)
				}
			}
		}
	}
	m := meta.NewDefaultRESTMapper(order)
	for _, e := range entries {
		scope := meta.RESTScopeRoot
		if e.resource.Namespaced {
			scope = meta.RESTScopeNamespace
		}
		if e.singular == "" {
			e.singular = strings.ToLower(e.kind.Kind)
		}
		m.AddSpecific(e.kind, e.resource.GroupVersionResource, e.kind.GroupVersion().WithResource(e.singular), scope)
	}
	// Where a resource or kind is named without its version or group, the
	// version listed first wins, as discovery lists them by preference.
	prio := make([]schema.GroupVersionResource, len(order))
	kprio := make([]schema.GroupVersionKind, len(order))
	for i, gv := range order {
		prio[i] = gv.WithResource(meta.AnyResource)
		kprio[i] = gv.WithKind(meta.AnyKind)
	}
	t.mapper = meta.PriorityRESTMapper{Delegate: m, ResourcePriority: prio, KindPriority: kprio}
	if len(stale) > 0 {
		t.stale = &StaleError{GroupVersions: stale}
	}
	return t
}
