package apply

import (
	"net/http"
	"strings"
	"sync/atomic"

	"k8s.io/client-go/rest"
)

// Counter counts API requests by kind, to show that a no-op resync writes
// nothing.
type Counter struct {
	Total, Mutating, DryRun atomic.Int64
}

// Wrap makes cfg count its requests in c.
func (c *Counter) Wrap(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			c.Total.Add(1)
			switch r.Method {
			case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
				if strings.Contains(r.URL.RawQuery, "dryRun=All") {
					c.DryRun.Add(1)
				} else {
					c.Mutating.Add(1)
				}
			}
			return rt.RoundTrip(r)
		})
	})
	return cfg
}

// Reset zeroes the counts.
func (c *Counter) Reset() {
	c.Total.Store(0)
	c.Mutating.Store(0)
	c.DryRun.Store(0)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
