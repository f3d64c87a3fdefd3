package waitclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/syncgate/syncgate/server/api"
)

// Outcome of a wait.
type Outcome int

// Outcomes, in the order the CLI's exit codes use.
const (
	Deployed Outcome = iota
	Failed
	TimedOut
	Unknown // bad request, unknown sha, refused token
)

// Answer is the gateway's JSON body.
type Answer = api.Answer

// Options configure a wait.
type Options struct {
	URLs      []string
	Namespace string
	Token     string
	Timeout   time.Duration
	// Poll bounds each long poll (default 60s).
	Poll time.Duration
	// Progress is told every state change, per URL.
	Progress func(url string, a Answer)
	// Trouble is told, per URL, why a try had no syncgate answer and is
	// made again (no connection, a 5xx, an answer not syncgate's): when
	// that changes, and every 30 s while it lasts.
	Trouble func(url string, err error)
	Client  *http.Client
}

// Result of waiting on every URL.
type Result struct {
	Outcome Outcome
	Answers map[string]Answer
	Err     error
}

// Wait blocks until every URL reports the commit final, or one failed, or
// the timeout. A URL no retry can make work, or that answers as no
// syncgate agent does, ends the wait at once, Unknown.
func Wait(ctx context.Context, sha string, opts Options) Result {
	bases := make([]string, len(opts.URLs))
	for i, u := range opts.URLs {
		b, err := ParseBaseURL(u)
		if err != nil {
			return Result{Outcome: Unknown, Answers: map[string]Answer{}, Err: err}
		}
		bases[i] = b
	}
	if opts.Poll <= 0 {
		opts.Poll = 60 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	type one struct {
		url string
		out Outcome
		a   Answer
		err error
	}
	results := make(chan one, len(opts.URLs))
	var wg sync.WaitGroup
	for i, u := range opts.URLs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, a, err := waitOne(ctx, bases[i], sha, opts)
			results <- one{u, out, a, err}
		}()
	}
	res := Result{Outcome: Deployed, Answers: map[string]Answer{}}
	decided := false
	for range opts.URLs {
		r := <-results
		res.Answers[r.url] = r.a
		if decided && r.out == TimedOut {
			continue // stopped because another cluster decided, not timed out
		}
		if r.out > res.Outcome || (r.out == Failed && res.Outcome != Unknown) {
			res.Outcome, res.Err = r.out, r.err
		}
		if r.out == Failed || r.out == Unknown {
			decided = true
			cancel() // one cluster decides for all
		}
	}
	wg.Wait()
	return res
}

func waitOne(ctx context.Context, base, sha string, opts Options) (Outcome, Answer, error) {
	backoff := 500 * time.Millisecond
	var (
		last    Answer
		trouble retried
		others  = alike{span: min(notAgentFor, time.Until(deadline(ctx))/4)}
	)
	timedOut := func() error {
		msg := base + ": timed out"
		if last.State != "" || trouble.err == nil {
			msg += fmt.Sprintf(", last state %q", last.State)
		}
		return withLastError(msg, trouble.err)
	}
	path := "/wait/" + url.PathEscape(sha)
	for {
		remaining := time.Until(deadline(ctx))
		poll := min(opts.Poll, remaining)
		if poll <= 0 {
			return TimedOut, last, timedOut()
		}
		q := url.Values{"timeout": {fmt.Sprintf("%ds", max(1, int(poll.Seconds())))}}
		if opts.Namespace != "" {
			q.Set("namespace", opts.Namespace)
		}
		if opts.Progress != nil {
			q.Set("progress", "true")
		}
		code, a, err := get(ctx, opts, base, path+"?"+q.Encode())
		if ctx.Err() != nil {
			return TimedOut, last, timedOut()
		}
		if err == nil && (a.State != last.State || a.Summary() != last.Summary()) && opts.Progress != nil && a.State != "" {
			opts.Progress(base, a)
		}
		if err == nil && a.State != "" {
			last = a
		}
		if others.add(err, time.Now()) {
			return Unknown, last, fmt.Errorf("%s is not a syncgate agent: %w", base, err)
		}
		if err == nil && (code >= 500 || code == http.StatusTooManyRequests) {
			err = fmt.Errorf("GET %s answered %d: %s", path, code, answerText(a, code))
		}
		if trouble.set(err) && opts.Trouble != nil {
			opts.Trouble(base, err)
		}
		switch {
		case err != nil:
			// Gateway restarting or unreachable: back off and ask again.
		case code == http.StatusOK:
			return Deployed, a, nil
		case code == http.StatusConflict:
			return Failed, a, fmt.Errorf("%s: %s", base, a.Reason)
		case code == http.StatusRequestTimeout:
			backoff = 500 * time.Millisecond
			continue
		default:
			return Unknown, a, fmt.Errorf("%s: %d %s", base, code, answerText(a, code))
		}
		t := time.NewTimer(backoff + time.Duration(rand.Int64N(int64(backoff/2)))) //nolint:gosec // jitter
		select {
		case <-ctx.Done():
			t.Stop()
			return TimedOut, last, timedOut()
		case <-t.C:
		}
		backoff = min(backoff*2, 15*time.Second)
	}
}

// answerText is what an answer says went wrong.
func answerText(a Answer, code int) string {
	switch {
	case a.Error != "":
		return a.Error
	case a.Reason != "":
		return a.Reason
	}
	return http.StatusText(code)
}

func deadline(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(time.Hour)
	}
	return d
}

// get asks base+pathQuery. Its error is why there was no syncgate
// answer: the connection's (not the request's, whose URL changes with each
// try), or a notAgentError.
func get(ctx context.Context, opts Options, base, pathQuery string) (int, Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+pathQuery, nil)
	if err != nil {
		return 0, Answer{}, err
	}
	req.Header.Set("Accept", "application/json")
	if opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+opts.Token)
	}
	resp, err := opts.Client.Do(req)
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if err != nil {
		return 0, Answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, Answer{}, err
	}
	var a Answer
	if err := json.Unmarshal(body, &a); err != nil || a.State == "" && a.Error == "" {
		path, _, _ := strings.Cut(pathQuery, "?")
		return resp.StatusCode, Answer{}, newNotAgentError(path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, a, nil
}
