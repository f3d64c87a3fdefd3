package apply

import (
	"maps"
	"net/http"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
)

// CountingTransport counts the API requests made through a rest.Config, to
// show what a sync costs and that a no-op resync writes nothing. Dry runs
// (dryRun=All) are counted apart from mutating requests.
type CountingTransport struct {
	mu     sync.Mutex
	counts Counts
}

// Counts of requests since the last Reset.
type Counts struct {
	Total int64
	// Mutating counts POST, PUT, PATCH and DELETE requests that were not
	// dry runs.
	Mutating int64
	// DryRun counts mutating verbs sent with dryRun=All.
	DryRun int64
	// ByVerb counts requests by HTTP method.
	ByVerb map[string]int64
}

// Wrap returns a copy of cfg whose requests are counted.
func (c *CountingTransport) Wrap(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(c.WrapTransport)
	return cfg
}

// WrapTransport is a rest.Config WrapTransport.
func (c *CountingTransport) WrapTransport(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.count(r)
		return rt.RoundTrip(r)
	})
}

func (c *CountingTransport) count(r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts.Total++
	if c.counts.ByVerb == nil {
		c.counts.ByVerb = map[string]int64{}
	}
	c.counts.ByVerb[r.Method]++
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		if dryRun(r) {
			c.counts.DryRun++
		} else {
			c.counts.Mutating++
		}
	}
}

func dryRun(r *http.Request) bool {
	for _, v := range r.URL.Query()["dryRun"] {
		if strings.EqualFold(v, "All") {
			return true
		}
	}
	return false
}

// Counts returns the counts so far.
func (c *CountingTransport) Counts() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.counts
	out.ByVerb = maps.Clone(c.counts.ByVerb)
	return out
}

// Reset zeroes the counts.
func (c *CountingTransport) Reset() {
	c.mu.Lock()
	c.counts = Counts{}
	c.mu.Unlock()
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
