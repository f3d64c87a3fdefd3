package outbox

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// setReporting derives the Reporting condition from the owed reports: False
// while any sink's refusal stands, naming each such sink in the reason
// ("GithubRefused") and saying what it answered, True otherwise.
func setReporting(st *version.VersionStatus) {
	first := map[string]version.OwedReport{}
	for _, o := range st.Owed {
		if _, seen := first[o.Sink]; o.Permanent && !seen {
			first[o.Sink] = o
		}
	}
	if len(first) == 0 {
		st.SetCondition(metav1.Condition{Type: version.ConditionReporting, Status: metav1.ConditionTrue,
			Reason: "Delivered", Message: "every sink accepts reports"})
		return
	}
	sinks := make([]string, 0, len(first))
	for s := range first {
		sinks = append(sinks, s)
	}
	slices.Sort(sinks)
	reasons := make([]string, len(sinks))
	msgs := make([]string, len(sinks))
	for i, s := range sinks {
		o := first[s]
		reasons[i] = refusedReason(s)
		msgs[i] = fmt.Sprintf("%s refused the %s report of %s and it is not retried until %s accepts another report or syncgate restarts: %s",
			s, o.State, status.ShortSHA(o.SHA), s, o.LastError)
	}
	st.SetCondition(metav1.Condition{Type: version.ConditionReporting, Status: metav1.ConditionFalse,
		Reason: strings.Join(reasons, ","), Message: strings.Join(msgs, "; ")})
}

// refusedReason turns a sink name into a condition reason: "s3" → "S3Refused".
func refusedReason(sink string) string {
	var b strings.Builder
	upper := true
	for _, r := range sink {
		switch {
		case r >= 'a' && r <= 'z':
			if upper {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			upper = false
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
			upper = false
		default:
			upper = true // separators start a new word
		}
	}
	if b.Len() == 0 || b.String()[0] < 'A' || b.String()[0] > 'Z' {
		return "Sink" + b.String() + "Refused"
	}
	return b.String() + "Refused"
}
