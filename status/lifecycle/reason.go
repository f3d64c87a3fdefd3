package lifecycle

import (
	"strings"
	"unicode/utf8"
)

// MaxReason bounds a reason kept in a Version (history, conditions, owed
// reports). The whole text goes to a Kubernetes Event.
const MaxReason = 1024

// MaxDetail bounds the whole reason reported to sinks that keep it (the
// S3 result object) by the process that saw it.
const MaxDetail = 1 << 20

// MaxEventReason bounds the text of one Event, well inside what the API
// server stores.
const MaxEventReason = 32 << 10

// Bound cuts s to at most n bytes on a rune boundary, ending it with
// "… (truncated)" when cut.
func Bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n-len(truncated), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncated
}

// truncated ends a text Bound cut.
const truncated = "… (truncated)"

// BoundFrom reports whether cut is what Bound made of whole for some n:
// whole's beginning followed by "… (truncated)", whole being longer. So a
// reader holding both the bounded and the whole text of a reason knows
// them for the same.
func BoundFrom(cut, whole string) bool {
	kept, ok := strings.CutSuffix(cut, truncated)
	return ok && whole != cut && len(whole) > len(kept) && strings.HasPrefix(whole, kept)
}
