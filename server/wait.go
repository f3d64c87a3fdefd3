package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/syncgate/syncgate/server/api"
	"github.com/syncgate/syncgate/server/internal/transport"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
)

var shaRE = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)

// waitRequest is a parsed /wait or /status request.
type waitRequest struct {
	sha        string
	namespaces []string
	timeout    time.Duration
}

// parseWait checks the sha and parameters; errors become 400.
func (s *Server) parseWait(sha, namespace, timeout string) (waitRequest, error) {
	r := waitRequest{timeout: s.opts.DefaultWaitTimeout}
	if !shaRE.MatchString(sha) {
		return r, fmt.Errorf("sha %q is not 7 to 40 hex characters", truncate(sha, 64))
	}
	r.sha = strings.ToLower(sha)
	if namespace != "" {
		found := false
		for _, ns := range s.opts.Namespaces {
			if ns == namespace {
				found = true
			}
		}
		if !found {
			return r, fmt.Errorf("namespace %q is not managed here (managed: %s)", truncate(namespace, 64), strings.Join(s.opts.Namespaces, ", "))
		}
		r.namespaces = []string{namespace}
	} else {
		r.namespaces = s.opts.Namespaces
	}
	if timeout != "" {
		d, err := parseTimeout(timeout)
		if err != nil {
			return r, err
		}
		r.timeout = min(d, s.opts.MaxWaitTimeout)
	}
	return r, nil
}

func parseTimeout(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 1<<31 {
			return 0, fmt.Errorf("timeout %q is out of range", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("timeout %q is not a duration like 60s or a number of seconds", truncate(s, 32))
	}
	return d, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// answer is the JSON body of /wait and /status.
type answer = api.Answer

// answerOf begins every answer /wait and /status give: each names the
// cluster, which a CI job waiting on several clusters tells apart by.
func (s *Server) answerOf(sha, state string) answer {
	return answer{SHA: sha, State: state, Cluster: s.opts.Cluster}
}

// errorAnswer is a bad request's answer (400).
func (s *Server) errorAnswer(sha, msg string) answer {
	a := s.answerOf(sha, "error")
	a.Error = msg
	return a
}

// fetchTimeout bounds the fetch behind a sha the repo does not know yet.
const fetchTimeout = 30 * time.Second

// resolve turns the request's sha into a full one, fetching when the repo
// does not know it yet (see fetchGate: the fetch is shared, paced, and not
// cut short by a client hanging up). A failed fetch is 503 (retry); only a
// fetch that worked and began after the request arrived can say a sha is
// not on the branch (404). That fetch is awaited until deadline, the
// request's own fixed as it arrived, or the time it is due to start when
// later (the pacing puts it at most fetchGate.every after the request),
// and fetchGate.grace more: past them the fetch is slow and the answer is
// 408, not known yet while a fetch is under way (retry), never 404, which
// would tell CI there is no such commit. Shutdown is 503 (retry) at once.
// ctx is the client's: when it ends, so does the wait.
func (s *Server) resolve(ctx context.Context, sha string, deadline time.Time) (string, int, error) {
	arrived := time.Now()
	full, err := s.opts.Repo.Resolve(sha)
	for errors.Is(err, ErrUnknownSHA) {
		run, final, due := s.fetches.next(ctx, arrived)
		known := func() bool {
			_, err := s.opts.Repo.Resolve(sha)
			return !errors.Is(err, ErrUnknownSHA)
		}
		until := maxTime(deadline, due).Add(s.fetches.grace)
		if ferr := s.fetches.wait(ctx, run, until, known); ferr != nil {
			return "", fetchCode(ctx, ferr), fetchError(ctx, sha, ferr)
		}
		full, err = s.opts.Repo.Resolve(sha)
		if final {
			break
		}
	}
	if errors.Is(err, ErrUnknownSHA) {
		// Off the branch now (a force-push rolled it back) but with a
		// record of its own: its verdict stands.
		if full := s.recorded(sha); full != "" {
			return full, 0, nil
		}
	}
	switch {
	case errors.Is(err, ErrAmbiguousSHA):
		return "", http.StatusBadRequest, err
	case errors.Is(err, ErrUnknownSHA):
		return "", http.StatusNotFound, fmt.Errorf("%s is not on the followed branch", sha)
	case err != nil:
		return "", http.StatusServiceUnavailable, err
	}
	return full, 0, nil
}

// fetchCode is the HTTP code of a wait for a fetch that ended in ferr.
func fetchCode(ctx context.Context, ferr error) int {
	if errors.Is(ferr, errFetchPending) && ctx.Err() == nil {
		return http.StatusRequestTimeout
	}
	return http.StatusServiceUnavailable
}

// fetchError is what a request is told of a wait for a fetch that ended in
// ferr (nothing when ctx ended: the client left).
func fetchError(ctx context.Context, sha string, ferr error) error {
	switch {
	case ctx.Err() != nil, errors.Is(ferr, errFetchBusy), errors.Is(ferr, errShuttingDown):
		return ferr
	case errors.Is(ferr, errFetchPending):
		return fmt.Errorf("%s is not known yet: a fetch of the config repo looking for it is under way; retry", sha)
	}
	return fmt.Errorf("cannot fetch the config repo to look for %s; retry: %w", sha, ferr)
}

// recorded finds the one full sha starting with prefix in the managed
// namespaces' histories, or "".
func (s *Server) recorded(prefix string) string {
	found := ""
	for _, ns := range s.opts.Namespaces {
		v := s.opts.Versions.Get(ns)
		if v == nil {
			continue
		}
		for _, c := range v.Status.History {
			if strings.HasPrefix(c.SHA, prefix) {
				if found != "" && found != c.SHA {
					return ""
				}
				found = c.SHA
			}
		}
	}
	return found
}

// States of a sha resolve could not turn into a full one, retry: it could
// not be looked up (503), or the fetch looking for it has not ended (408).
const (
	stateUnavailable = "unavailable"
	stateFetching    = "fetching"
)

// unresolved is the answer for a sha resolve could not turn into a full
// one: unknown (404), ambiguous (400), not known yet while a fetch is under
// way (408), or not known yet because the repo could not be fetched or
// syncgate is shutting down (503, with Retry-After as for other waits).
func (s *Server) unresolved(c *gin.Context, code int, sha string, err error) answer {
	switch {
	case code == http.StatusRequestTimeout:
		a := s.answerOf(sha, stateFetching)
		a.Retry, a.Reason = true, err.Error()
		return a
	case errors.Is(err, errShuttingDown):
		c.Header("Retry-After", "1")
	case code == http.StatusServiceUnavailable:
		c.Header("Retry-After", "2")
	default:
		a := s.answerOf(sha, lifecycle.Unknown)
		a.Error = err.Error()
		return a
	}
	a := s.answerOf(sha, stateUnavailable)
	a.Retry, a.Error = true, err.Error()
	return a
}

// evaluate judges the commit in every requested namespace.
func (s *Server) evaluate(sha string, nss []string) answer {
	per := make(map[string]lifecycle.Verdict, len(nss))
	for _, ns := range nss {
		var st *version.VersionStatus
		if v := s.opts.Versions.Get(ns); v != nil {
			st = &v.Status
		}
		per[ns] = lifecycle.Judge(sha, st, s.opts.Repo)
	}
	all := lifecycle.Combine(per)
	a := s.answerOf(sha, all.State)
	a.Reason, a.Namespaces = all.Reason, per
	return a
}

func codeOf(a answer) int {
	switch a.State {
	case string(status.Deployed):
		return http.StatusOK
	case string(status.Failed):
		return http.StatusConflict
	case lifecycle.Unknown:
		return http.StatusNotFound
	}
	return http.StatusRequestTimeout
}

func (s *Server) respond(c *gin.Context, code int, a answer) {
	s.m.answers.WithLabelValues(strconv.Itoa(code)).Inc()
	c.JSON(code, a)
}

func (s *Server) wait(c *gin.Context) {
	start := time.Now()
	req, err := s.parseWait(c.Param("sha"), c.Query("namespace"), c.Query("timeout"))
	if err != nil {
		s.respond(c, http.StatusBadRequest, s.errorAnswer(c.Param("sha"), err.Error()))
		return
	}
	if s.notSynced(c, req.sha, false) {
		s.m.answers.WithLabelValues(strconv.Itoa(http.StatusServiceUnavailable)).Inc()
		return
	}
	full, code, err := s.resolve(c.Request.Context(), req.sha, start.Add(req.timeout))
	if c.Request.Context().Err() != nil {
		s.m.abandoned.Inc() // the client left while the sha was looked for
		return
	}
	if err != nil {
		a := s.unresolved(c, code, req.sha, err)
		if a.Retry {
			a.Elapsed = time.Since(start).Round(time.Millisecond).String()
		}
		s.respond(c, code, a)
		return
	}
	// The deadline was fixed as the request arrived, so the fetch behind an
	// unknown sha counts against it; past it already, the waiter is told
	// the state at once (tell, on either transport).
	w := &waiter{start: start, deadline: start.Add(req.timeout), progress: c.Query("progress") == "true"}
	timer := time.NewTimer(time.Until(w.deadline))
	defer timer.Stop()
	for parkable := true; ; parkable = false {
		changed := s.opts.Versions.Changed() // before judging: no change is missed
		// Every waiter on this commit shares one verdict per change: a
		// change that releases thousands of them costs one evaluation.
		v := s.verdicts.get(changed, full, req.namespaces, s.evaluate)
		if r := tell(v, w, time.Now(), s.closing()); r.code != 0 {
			s.m.answers.WithLabelValues(strconv.Itoa(r.code)).Inc()
			if ra := r.retryAfter(); ra > 0 {
				c.Header("Retry-After", strconv.Itoa(ra))
			}
			c.Data(r.code, "application/json; charset=utf-8", r.body)
			return
		}
		if parkable {
			// An HTTP/1.x connection leaves its goroutine and waits parked.
			if conn, ok := transport.Take(c.Writer, c.Request); ok {
				s.transport.Park(conn, waitGroup{s: s, sha: full, nss: req.namespaces}, w, changed)
				return
			}
		}
		s.m.waiters.Inc()
		left := false
		select {
		case <-changed:
		case <-timer.C:
		case <-s.shutdown:
		case <-c.Request.Context().Done():
			left = true
		}
		s.m.waiters.Dec()
		if left {
			s.m.abandoned.Inc()
			return
		}
	}
}

// closing tells whether shutdown began.
func (s *Server) closing() bool {
	select {
	case <-s.shutdown:
		return true
	default:
		return false
	}
}

// notSynced answers 503, retry, until the first sync; true when it did.
func (s *Server) notSynced(c *gin.Context, sha string, html bool) bool {
	if s.opts.Versions.Synced() && s.opts.Ready() {
		return false
	}
	const msg = "syncgate has not synced yet; retry"
	c.Header("Retry-After", "2")
	if html {
		s.page(c, http.StatusServiceUnavailable, pageData{Title: "Commit " + sha, Error: msg})
	} else {
		a := s.answerOf(sha, "starting")
		a.Retry, a.Error = true, msg
		c.JSON(http.StatusServiceUnavailable, a)
	}
	return true
}

func (s *Server) status(c *gin.Context) {
	req, err := s.parseWait(c.Param("sha"), c.Query("namespace"), "")
	html := strings.Contains(c.GetHeader("Accept"), "text/html")
	if err != nil {
		s.respond(c, http.StatusBadRequest, s.errorAnswer(c.Param("sha"), err.Error()))
		return
	}
	if s.notSynced(c, req.sha, html) {
		return
	}
	// The answer now, or once the fetch that looks for the sha ended (if it
	// began within fetchGate.every and ended within fetchGate.grace).
	full, code, err := s.resolve(c.Request.Context(), req.sha, time.Now())
	if err != nil {
		a := s.unresolved(c, code, req.sha, err)
		if code == http.StatusRequestTimeout {
			code = http.StatusAccepted // not known yet, a fetch under way: not final
		}
		if html {
			s.page(c, code, pageData{Title: "Commit " + req.sha, Error: err.Error()})
			return
		}
		c.JSON(code, a)
		return
	}
	a := s.evaluate(full, req.namespaces)
	code = codeOf(a)
	if code == http.StatusRequestTimeout {
		code = http.StatusAccepted // in progress: known, not final
	}
	if html {
		s.page(c, code, s.commitPage(a))
		return
	}
	c.JSON(code, a)
}
