package benchenv

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"k8s.io/client-go/rest"
)

// Proxy stands between an agent and kube-apiserver and counts what the
// agent asks: requests by kind of verb, and watches open now and at most.
// The agent under test is its only client, so the counts are the agent's,
// whichever build it is.
type Proxy struct {
	srv *httptest.Server

	mu                                  sync.Mutex
	reads, writes, dryRuns, watchesOpen int64
	watchesPeak                         int64
	watchesStarted                      atomic.Int64
	// versionWrites and versionBytes count the writes of Versions and
	// their request bodies' bytes.
	versionWrites, versionBytes int64
	// discoveryReads are the reads of discovery, counted in reads too.
	discoveryReads int64
}

// Counts is a snapshot of a Proxy.
type Counts struct {
	Reads, Writes, DryRuns, WatchesStarted, WatchesOpen, WatchesPeak int64
	VersionWrites, VersionBytes                                      int64
	// DiscoveryReads are the reads of what the API server serves (/api,
	// /apis and the group versions under them), counted in Reads too.
	DiscoveryReads int64
}

// Requests are all requests but watches.
func (c Counts) Requests() int64 { return c.Reads + c.Writes + c.DryRuns }

// Minus is what happened between before and c; watches open and at most
// stay c's.
func (c Counts) Minus(before Counts) Counts {
	c.Reads -= before.Reads
	c.DiscoveryReads -= before.DiscoveryReads
	c.Writes -= before.Writes
	c.DryRuns -= before.DryRuns
	c.WatchesStarted -= before.WatchesStarted
	c.VersionWrites -= before.VersionWrites
	c.VersionBytes -= before.VersionBytes
	return c
}

// StartProxy serves a counting proxy to target on loopback (TLS).
func StartProxy(target *rest.Config) (*Proxy, error) {
	u, err := url.Parse(target.Host)
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1 // watches stream
	rp.Transport = &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback test control plane
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 256,
	}
	p := &Proxy{}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		done := p.count(r)
		defer done()
		rp.ServeHTTP(w, r)
	}))
	p.srv.EnableHTTP2 = true
	p.srv.StartTLS()
	return p, nil
}

// count notes r and returns what to do when it ends.
func (p *Proxy) count(r *http.Request) func() {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case q.Get("watch") == "true" || q.Get("watch") == "1":
		p.watchesStarted.Add(1)
		p.watchesOpen++
		p.watchesPeak = max(p.watchesPeak, p.watchesOpen)
		return func() {
			p.mu.Lock()
			p.watchesOpen--
			p.mu.Unlock()
		}
	case r.Method == http.MethodGet:
		p.reads++
		if isDiscovery(r.URL.Path) {
			p.discoveryReads++
		}
	case q.Get("dryRun") != "":
		p.dryRuns++
	default:
		p.writes++
		if strings.Contains(r.URL.Path, "/syncgate.dev/") {
			p.versionWrites++
			p.versionBytes += max(r.ContentLength, 0)
		}
	}
	return func() {}
}

// isDiscovery reports whether path is one of discovery's: /api, /apis,
// aggregated or not, and the group versions under them, which client-go's
// discovery of old reads one by one.
func isDiscovery(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch parts[0] {
	case "api":
		return len(parts) <= 2
	case "apis":
		return len(parts) <= 3
	}
	return false
}

// Snapshot returns the counts so far and starts a new peak of watches.
func (p *Proxy) Snapshot() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := Counts{Reads: p.reads, Writes: p.writes, DryRuns: p.dryRuns, WatchesStarted: p.watchesStarted.Load(),
		WatchesOpen: p.watchesOpen, WatchesPeak: p.watchesPeak, VersionWrites: p.versionWrites, VersionBytes: p.versionBytes,
		DiscoveryReads: p.discoveryReads}
	p.watchesPeak = p.watchesOpen
	return c
}

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }
