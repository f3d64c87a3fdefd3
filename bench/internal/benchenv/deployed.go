package benchenv

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// Deployed follows every Version: when each namespace first showed each
// commit deployed (by itself or carried), and how often each was written.
type Deployed struct {
	mu       sync.Mutex
	deployed map[string]map[string]time.Time // sha → namespace → when
	writes   map[string]int                  // namespace → status writes seen
	changed  chan struct{}                   // closed and replaced at each Version seen
	also     func(v *version.Version, seen time.Time)
}

// WatchDeployed follows the Versions of every namespace until ctx ends;
// also, when set, is told of each Version seen as well.
func WatchDeployed(ctx context.Context, cfg *rest.Config, also func(v *version.Version, seen time.Time)) (*Deployed, error) {
	d := &Deployed{deployed: map[string]map[string]time.Time{}, writes: map[string]int{}, changed: make(chan struct{}), also: also}
	return d, WatchVersions(ctx, cfg, "", d.note)
}

func (d *Deployed) note(v *version.Version, now time.Time) {
	if d.also != nil {
		d.also(v, now)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.writes[v.Namespace]++
	for _, c := range v.Status.History {
		if c.State != status.Deployed && (c.State != status.Superseded || c.Outcome != status.Deployed) {
			continue
		}
		m := d.deployed[c.SHA]
		if m == nil {
			m = map[string]time.Time{}
			d.deployed[c.SHA] = m
		}
		if _, ok := m[v.Namespace]; !ok {
			m[v.Namespace] = now
		}
	}
	close(d.changed)
	d.changed = make(chan struct{})
}

// Await (any number at once) waits until sha is deployed in every namespace and returns when the
// last one showed it.
func (d *Deployed) Await(ctx context.Context, sha string, namespaces []string, limit time.Duration) (time.Time, error) {
	deadline := time.After(limit)
	for {
		d.mu.Lock()
		changed := d.changed
		var last time.Time
		missing := 0
		for _, ns := range namespaces {
			t, ok := d.deployed[sha][ns]
			if !ok {
				missing++
			}
			if t.After(last) {
				last = t
			}
		}
		d.mu.Unlock()
		if missing == 0 {
			return last, nil
		}
		select {
		case <-changed:
		case <-deadline:
			return time.Time{}, fmt.Errorf("%s not deployed in %d of %d namespaces after %s", status.ShortSHA(sha), missing, len(namespaces), limit)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// At is when namespace first showed sha deployed (zero if never).
func (d *Deployed) At(sha, namespace string) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.deployed[sha][namespace]
}

// WritesTo sums the status writes seen so far in namespaces.
func (d *Deployed) WritesTo(namespaces []string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, ns := range namespaces {
		n += d.writes[ns]
	}
	return n
}
