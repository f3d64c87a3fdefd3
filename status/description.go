package status

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Context is the name of a namespace's commit status on either forge
// (GitHub's context, GitLab's name): syncgate/<cluster>/<namespace>.
func Context(cluster, namespace string) string { return "syncgate/" + cluster + "/" + namespace }

// MaxDescription is the longest description GitHub accepts on a commit
// status, in characters; GitLab's limit is larger.
const MaxDescription = 140

// Description is the short human text a commit status shows for u, at most
// MaxDescription characters, cut with "…" when longer:
//
//	applying
//	rolling out (2/3 ready)
//	deployed in 42s
//	<the failure reason>
//	deployed by abc1234 in 42s
//	failed in abc1234: <its reason>
func Description(u Update) string {
	var s string
	switch u.State {
	case Fetched, Applying:
		s = "applying"
	case RollingOut:
		s = "rolling out"
		if u.Total > 0 {
			s = fmt.Sprintf("rolling out (%d/%d ready)", u.Ready, u.Total)
		}
	case Deployed:
		s = "deployed" + took(u)
	case Failed:
		s = oneLine(u.Reason)
		if s == "" {
			s = "failed"
		}
	case Superseded:
		by := ShortSHA(u.CarriedBy)
		switch u.Outcome {
		case Deployed:
			s = "deployed by " + by + took(u)
		case Failed:
			s = "failed in " + by
			if r := oneLine(u.Reason); r != "" {
				s += ": " + r
			}
		default:
			s = "superseded by " + by
		}
	default:
		s = string(u.State)
	}
	return truncate(s, MaxDescription)
}

// took is " in 42s" when the update knows how long it took.
func took(u Update) string {
	d := u.Duration()
	if d <= 0 {
		return ""
	}
	return " in " + FormatDuration(d)
}

// FormatDuration is d as people read it in a status: to the millisecond
// under a second ("420ms"), to the second above ("42s", "2m5s").
func FormatDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// oneLine folds whitespace so multi-line errors read as one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// truncate cuts s to at most n characters, ending in "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// ShortSHA is the 7-character form of a commit sha.
func ShortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
