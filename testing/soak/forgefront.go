package soak

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// forgeFront stands in front of the GitHub fake and, for a while, answers
// every request with an error instead: a forge outage or a rate-limit burst
// lasts a time, not a number of requests (the fake's FailNext), so
// syncgate's back-off is tested as it would meet one.
type forgeFront struct {
	srv *httptest.Server

	mu      sync.Mutex
	until   time.Time
	code    int
	after   int // Retry-After seconds, for 429
	refused int
}

func newForgeFront(target string) (*forgeFront, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	f := &forgeFront{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, after, ok := f.failing(); ok {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			switch code {
			case http.StatusTooManyRequests:
				w.Header().Set("Retry-After", strconv.Itoa(after))
				w.WriteHeader(code)
				fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
			default:
				w.WriteHeader(code)
				fmt.Fprintf(w, `{"message":"%s"}`, http.StatusText(code))
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	return f, nil
}

func (f *forgeFront) failing() (int, int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Now().Before(f.until) {
		f.refused++
		return f.code, f.after, true
	}
	return 0, 0, false
}

// fail answers every request with code for d (429s ask to retry after
// `after` seconds) and returns how many requests it refused.
func (f *forgeFront) fail(code, after int, d time.Duration, wait func(time.Duration)) int {
	f.mu.Lock()
	f.until, f.code, f.after, f.refused = time.Now().Add(d), code, after, 0
	f.mu.Unlock()
	wait(d)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.until = time.Time{}
	return f.refused
}

// APIURL is the API root syncgate is given (GHE style, as the fake's).
func (f *forgeFront) APIURL() string { return f.srv.URL + "/api/v3/" }

func (f *forgeFront) Close() { f.srv.Close() }
