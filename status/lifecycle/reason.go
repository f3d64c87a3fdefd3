package lifecycle

import "unicode/utf8"

// MaxReason bounds a reason kept in a Version (history, conditions, owed
// reports). The whole text goes to a Kubernetes Event.
const MaxReason = 1024

// MaxDetail bounds the whole reason reported to sinks that keep it (the
// S3 result object) by the process that saw it.
const MaxDetail = 1 << 20

// MaxEventReason bounds the text of one Event, well inside what the API
// server stores.
const MaxEventReason = 32 << 10

// Bound cuts s to at most n bytes on a rune boundary, ending it with an
// ellipsis and the size left out when cut.
func Bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const tail = "… (truncated)"
	cut := max(n-len(tail), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + tail
}
