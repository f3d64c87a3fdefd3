package kinds

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// loadTimeout bounds one load: meta.RESTMapper's methods take no context.
const loadTimeout = 30 * time.Second

// Mapper is a meta.RESTMapper over the API server's discovery, safe for
// concurrent use. The first lookup loads discovery; a kind or resource the
// load does not know loads it again, once, since its CRD may have been
// created since. Lookups that miss together share one load.
type Mapper struct {
	client rest.Interface

	mu      sync.Mutex
	cur     *table // nil until loaded, and after Reset
	epoch   int    // Resets so far
	loading *loading
}

// loading is a load under way, which every lookup that needs it waits for
// until a Reset: lookups after it start a load of their own.
type loading struct {
	epoch int // Resets before it started
	done  chan struct{}
	t     *table
	err   error
}

var _ meta.RESTMapper = (*Mapper)(nil)

// New builds a Mapper asking the API server of cfg, through cfg's
// transport and rate limiter.
func New(cfg *rest.Config) (*Mapper, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	return &Mapper{client: c}, nil
}

// Reset forgets what was loaded: the next lookup loads again, and a load
// under way is not kept for later lookups (it may predate what Reset is
// for, a CRD just established).
func (m *Mapper) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur = nil
	m.epoch++
}

// Load loads discovery now, unless a lookup has since the last Reset: an
// agent checks at start that it can read what the API server serves, not
// at its first apply.
func (m *Mapper) Load(ctx context.Context) error {
	m.mu.Lock()
	epoch := m.epoch
	m.mu.Unlock()
	t, err := load(ctx, m.client)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.cur == nil && m.epoch == epoch {
		m.cur = t
	}
	m.mu.Unlock()
	return nil
}

// Preferred is every resource the API server serves, each at its group's
// most preferred version that has it, as loaded now (a load under way is
// shared). With an error for which IsStale holds, the list is whole but
// for the group versions the error names.
func (m *Mapper) Preferred() ([]Resource, error) {
	m.mu.Lock()
	seen := m.cur
	m.mu.Unlock()
	t, err := m.refresh(seen)
	if err != nil {
		return nil, err
	}
	if t.stale != nil {
		return t.preferred, t.stale
	}
	return t.preferred, nil
}

// current is the last load, loading if there is none.
func (m *Mapper) current() (*table, error) {
	m.mu.Lock()
	t := m.cur
	m.mu.Unlock()
	if t != nil {
		return t, nil
	}
	return m.refresh(nil)
}

// refresh loads again unless a load newer than seen has finished since,
// joining a load under way since the last Reset rather than starting
// another.
func (m *Mapper) refresh(seen *table) (*table, error) {
	m.mu.Lock()
	if m.cur != nil && m.cur != seen {
		t := m.cur
		m.mu.Unlock()
		return t, nil
	}
	l := m.loading
	if l != nil && l.epoch == m.epoch {
		m.mu.Unlock()
		<-l.done
		return l.t, l.err
	}
	l = &loading{epoch: m.epoch, done: make(chan struct{})}
	m.loading = l
	m.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.TODO(), loadTimeout)
	l.t, l.err = load(ctx, m.client)
	cancel()

	m.mu.Lock()
	if m.loading == l {
		m.loading = nil
	}
	if l.err == nil && l.epoch == m.epoch {
		m.cur = l.t
	}
	m.mu.Unlock()
	close(l.done)
	return l.t, l.err
}

// lookup asks the last load, and a new one if the answer is that nothing
// matches.
func lookup[T any](m *Mapper, group string, ask func(meta.RESTMapper) (T, error)) (T, error) {
	t, err := m.current()
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := ask(t.mapper)
	if !meta.IsNoMatchError(err) {
		return v, err
	}
	if t, err = m.refresh(t); err != nil {
		return v, err
	}
	v, err = ask(t.mapper)
	return v, t.explain(group, err)
}

// explain says, beside a kind not found, that its group could not be
// discovered.
func (t *table) explain(group string, err error) error {
	if err == nil || !meta.IsNoMatchError(err) || t.stale == nil {
		return err
	}
	for _, gv := range t.stale.GroupVersions {
		if gv.Group == group {
			return fmt.Errorf("%w (%v)", err, t.stale)
		}
	}
	return err
}

// RESTMapping is the mapping of gk at the first of versions served, or at
// its group's most preferred version that serves it.
func (m *Mapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	return lookup(m, gk.Group, func(r meta.RESTMapper) (*meta.RESTMapping, error) { return r.RESTMapping(gk, versions...) })
}

// RESTMappings are the mappings of gk at versions, or at every version
// served.
func (m *Mapper) RESTMappings(gk schema.GroupKind, versions ...string) ([]*meta.RESTMapping, error) {
	return lookup(m, gk.Group, func(r meta.RESTMapper) ([]*meta.RESTMapping, error) { return r.RESTMappings(gk, versions...) })
}

// KindFor is the kind of resource, which may lack its group or version.
func (m *Mapper) KindFor(resource schema.GroupVersionResource) (schema.GroupVersionKind, error) {
	return lookup(m, resource.Group, func(r meta.RESTMapper) (schema.GroupVersionKind, error) { return r.KindFor(resource) })
}

// KindsFor are the kinds resource may name.
func (m *Mapper) KindsFor(resource schema.GroupVersionResource) ([]schema.GroupVersionKind, error) {
	return lookup(m, resource.Group, func(r meta.RESTMapper) ([]schema.GroupVersionKind, error) { return r.KindsFor(resource) })
}

// ResourceFor is the fully named resource of a partial one.
func (m *Mapper) ResourceFor(input schema.GroupVersionResource) (schema.GroupVersionResource, error) {
	return lookup(m, input.Group, func(r meta.RESTMapper) (schema.GroupVersionResource, error) { return r.ResourceFor(input) })
}

// ResourcesFor are the resources a partial one may name.
func (m *Mapper) ResourcesFor(input schema.GroupVersionResource) ([]schema.GroupVersionResource, error) {
	return lookup(m, input.Group, func(r meta.RESTMapper) ([]schema.GroupVersionResource, error) { return r.ResourcesFor(input) })
}

// ResourceSingularizer is the singular name of resource.
func (m *Mapper) ResourceSingularizer(resource string) (string, error) {
	return lookup(m, "", func(r meta.RESTMapper) (string, error) { return r.ResourceSingularizer(resource) })
}
