// Package requestlog records the requests a Kubernetes client makes, for
// tests that count its watches and calls.
package requestlog

import (
	"net/http"
	"strings"
	"sync"
)

// Log holds the path and query of each request made through Wrap.
type Log struct {
	mu   sync.Mutex
	urls []string
}

// Wrap is for rest.Config.Wrap.
func (l *Log) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTrip(func(r *http.Request) (*http.Response, error) {
		l.mu.Lock()
		l.urls = append(l.urls, r.URL.Path+"?"+r.URL.RawQuery)
		l.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

// Requests are the requests made so far to path exactly.
func (l *Log) Requests(path string) []string {
	return l.matching(func(u string) bool { return strings.HasPrefix(u, path+"?") })
}

// Watches are the watch requests made so far to paths under prefix.
func (l *Log) Watches(prefix string) []string {
	return l.matching(func(u string) bool { return strings.HasPrefix(u, prefix) && strings.Contains(u, "watch=true") })
}

func (l *Log) matching(match func(string) bool) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, u := range l.urls {
		if match(u) {
			out = append(out, u)
		}
	}
	return out
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
