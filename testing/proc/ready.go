package proc

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Ready is the endpoint AwaitReady polls.
type Ready struct {
	URL    string
	Header http.Header
	// Client sends the requests; nil is one with a 2 s timeout.
	Client *http.Client
	// Every is the pause between requests (default 100 ms).
	Every time.Duration
	// Timeout bounds the wait.
	Timeout time.Duration
}

// AwaitReady polls r.URL until it answers 200 while the process runs. It
// fails, the end of the process's log in the error, when the process exits
// first, r.Timeout passes or ctx ends.
func (p *Proc) AwaitReady(ctx context.Context, r Ready) error {
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Second}
	}
	deadline := time.NewTimer(r.Timeout)
	defer deadline.Stop()
	var last string
	exited := func() error {
		return fmt.Errorf("%s exited while starting: %v; end of its log:\n%s", p.Name, p.Err(), p.LogTail(3000))
	}
	for {
		if p.Exited() {
			return exited()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
		if err != nil {
			return err
		}
		for k, vs := range r.Header {
			req.Header[k] = vs
		}
		if resp, err := client.Do(req); err != nil {
			last = err.Error()
		} else {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		}
		select {
		case <-p.Done():
			return exited()
		case <-deadline.C:
			return fmt.Errorf("%s not ready at %s after %s (last: %s); end of its log:\n%s", p.Name, r.URL, r.Timeout, last, p.LogTail(3000))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w", p.Name, r.URL, ctx.Err())
		case <-time.After(cmp.Or(r.Every, 100*time.Millisecond)):
		}
	}
}
