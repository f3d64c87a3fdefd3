package apply

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Transient reports trouble reaching the API server or hearing its verdict,
// worth a retry: no answer at all, 401 (credentials being rotated), 429,
// 502, 503, 504, a server-side timeout, a 5xx whose body the API server did
// not write (a proxy or load balancer in front of it answered), or a 500
// that names storage, a timeout or an unreachable webhook. Any other
// answer about an object is a refusal of the commit's content, whatever
// HTTP code wraps it: a 4xx, and a 500 the server gives for content it
// cannot type or convert ("failed to create typed patch object").
//
// This is the one place that tells the two apart; callers retry transient
// trouble for a bounded time and fail the commit on anything else.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if meta.IsNoMatchError(err) {
		return false
	}
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		st := se.Status()
		switch {
		case st.Code == 0, st.Code == 401, st.Code == 429, st.Code == 502, st.Code == 503, st.Code == 504:
			return true
		case st.Code >= 500 && notFromAPIServer(st):
			return true
		case apierrors.IsServerTimeout(err), apierrors.IsTimeout(err), apierrors.IsTooManyRequests(err), apierrors.IsServiceUnavailable(err):
			return true
		case st.Code == 500:
			return mentionsTrouble(st.Message)
		}
		return false
	}
	// No verdict from the server at all (connection trouble, a client-side
	// rate limit, a cancelled request): the commit was not judged.
	return true
}

// mayHaveTakenEffect reports a failed write the API server may have
// stored all the same: no answer came (a client timeout, a reset
// connection, shutdown), something in between answered, or the server
// answered a 5xx for trouble that can strike once the object is stored
// (an etcd or handler timeout). 401, 429 and the API server's own 503 turn
// the request away before any handler runs; Transient's refusals are
// refusals.
func mayHaveTakenEffect(err error) bool {
	if !Transient(err) {
		return false
	}
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return true
	}
	st := se.Status()
	switch {
	case st.Code == 401, st.Code == 429:
		return false
	case st.Code == 503:
		return notFromAPIServer(st)
	}
	return true
}

// notFromAPIServer tells a Status client-go made up for an answer that was
// not a Status (an empty or HTML body): the API server writes a Status for
// every error it answers, so such a body came from something in between.
func notFromAPIServer(st metav1.Status) bool {
	if st.Details == nil {
		return false
	}
	for _, c := range st.Details.Causes {
		if c.Type == metav1.CauseTypeUnexpectedServerResponse {
			return true
		}
	}
	return false
}

// troubleWords in a 500's message say the server could not judge the
// object, not that it judged it wrong.
var troubleWords = []string{
	"etcdserver", "storage", "timeout", "timed out", "deadline exceeded", "connection refused",
	"connection reset", "eof", "failed calling webhook", "unable to handle the request", "try again",
}

func mentionsTrouble(msg string) bool {
	msg = strings.ToLower(msg)
	for _, w := range troubleWords {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// PruneError is returned by Apply when every object of the commit was
// written but some objects it no longer has could not be deleted. The
// Result's Inventory is what is live: the commit's objects and those left.
type PruneError struct {
	Objects []ObjectRef
	Err     error
}

func (e *PruneError) Error() string {
	return fmt.Sprintf("applied, but could not prune %d object(s): %v", len(e.Objects), e.Err)
}

func (e *PruneError) Unwrap() error { return e.Err }
