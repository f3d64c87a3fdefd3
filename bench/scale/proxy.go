package main

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"

	"k8s.io/client-go/rest"
)

// apiProxy stands between the agent and kube-apiserver and counts what the
// agent asks: requests by kind of verb, and watches open now and at most.
// The agent under test is its only client, so the counts are the agent's,
// whichever build it is.
type apiProxy struct {
	srv *httptest.Server

	mu                                  sync.Mutex
	reads, writes, dryRuns, watchesOpen int64
	watchesPeak                         int64
	watchesStarted                      atomic.Int64
}

// counts is a snapshot of an apiProxy.
type counts struct {
	reads, writes, dryRuns, watchesStarted, watchesOpen, watchesPeak int64
}

func (c counts) requests() int64 { return c.reads + c.writes + c.dryRuns }

// minus is what happened between before and c; watches open and at most
// stay c's.
func (c counts) minus(before counts) counts {
	c.reads -= before.reads
	c.writes -= before.writes
	c.dryRuns -= before.dryRuns
	c.watchesStarted -= before.watchesStarted
	return c
}

func startProxy(target *rest.Config) (*apiProxy, error) {
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
	p := &apiProxy{}
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
func (p *apiProxy) count(r *http.Request) func() {
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
	case q.Get("dryRun") != "":
		p.dryRuns++
	default:
		p.writes++
	}
	return func() {}
}

// snapshot returns the counts so far and starts a new peak of watches.
func (p *apiProxy) snapshot() counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := counts{reads: p.reads, writes: p.writes, dryRuns: p.dryRuns, watchesStarted: p.watchesStarted.Load(),
		watchesOpen: p.watchesOpen, watchesPeak: p.watchesPeak}
	p.watchesPeak = p.watchesOpen
	return c
}

func (p *apiProxy) close() { p.srv.Close() }
