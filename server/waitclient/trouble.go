package waitclient

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ParseBaseURL checks a syncgate base URL and returns it without trailing
// slashes. A URL no retry can make work (not http or https, no host, a
// query or fragment the request path would be glued into) is refused
// before any request, so that a mistyped URL is not waited on.
func ParseBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	var why string
	var ue *url.Error
	switch {
	case errors.As(err, &ue):
		why = ue.Err.Error()
	case err != nil:
		why = err.Error()
	case u.Scheme != "http" && u.Scheme != "https" || u.Opaque != "":
		why = "no http:// or https://"
	case u.Host == "":
		why = "no host"
	case u.Port() != "" && !validPort(u.Port()):
		why = "invalid port " + u.Port()
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		why = "a query or fragment; give the URL /wait/<sha> is served under"
	default:
		return strings.TrimRight(raw, "/"), nil
	}
	return "", fmt.Errorf("%q is not a syncgate URL (http(s)://host[:port][/prefix]): %s", raw, why)
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n <= 65535
}

// notAgentAnswers is how many answers alike, in a row, that are not
// syncgate's (an HTML 404, a login page) tell that the URL is not a
// syncgate agent, once they have lasted notAgentFor.
const notAgentAnswers = 4

// notAgentFor is the longest a run of answers alike that are not
// syncgate's must last before the URL is judged not a syncgate agent
// (a quarter of the wait when that is shorter): an ingress answers its
// own 404 while no replica of the agent is ready (a node drained, a
// rollout of the agent), and that passes.
const notAgentFor = time.Minute

// notAgentError is an answer that is not syncgate's JSON.
type notAgentError struct {
	path      string
	code      int
	mediaType string
}

func newNotAgentError(path string, code int, contentType string) *notAgentError {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt == "" {
		mt = "without a Content-Type"
	}
	return &notAgentError{path: path, code: code, mediaType: mt}
}

func (e *notAgentError) Error() string {
	return fmt.Sprintf("GET %s answered %d %s", e.path, e.code, e.mediaType)
}

// alike counts the answers in a row that were not syncgate's, the same,
// and says when they tell that the URL is not a syncgate agent: at least
// notAgentAnswers of them over at least span, and never once the URL gave
// a syncgate answer.
type alike struct {
	span  time.Duration
	last  notAgentError
	n     int
	since time.Time
	agent bool
}

// add records a try's error (nil or another error: an answer, or none),
// made at now, and says whether the URL is not a syncgate agent.
func (a *alike) add(err error, now time.Time) bool {
	var na *notAgentError
	if !errors.As(err, &na) || na.code >= 500 || na.code == 429 { // a proxy's page while the agent restarts
		a.agent = a.agent || err == nil
		a.n = 0
		return false
	}
	if a.n == 0 || *na != a.last {
		a.last, a.n, a.since = *na, 0, now
	}
	a.n++
	return !a.agent && a.n >= notAgentAnswers && now.Sub(a.since) >= a.span
}

// troubleEvery is how often an error that lasts is told again.
const troubleEvery = 30 * time.Second

// retried keeps why the last try of a wait that asks again had no answer,
// to tell it as it happens without a line per try (when it changes, and
// every troubleEvery while it lasts) and with the timeout.
type retried struct {
	err  error
	told string
	at   time.Time
}

// set records the last try's error, nil when it had an answer, and says
// whether to tell it now.
func (r *retried) set(err error) bool {
	r.err = err
	if err == nil {
		r.told = ""
		return false
	}
	if msg := err.Error(); msg != r.told || time.Since(r.at) >= troubleEvery {
		r.told, r.at = msg, time.Now()
		return true
	}
	return false
}

// withLastError ends a timeout's message with the last error, if any.
func withLastError(msg string, last error) error {
	if last != nil {
		return fmt.Errorf("%s; last error: %w", msg, last)
	}
	return errors.New(msg)
}
