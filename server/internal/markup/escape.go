package markup

import (
	"fmt"
	"strings"
)

// escaper is html/template's: the five characters HTML gives a meaning
// to, '+' (a UTF-7 sniffing defence) and NUL.
var escaper = strings.NewReplacer(
	"\x00", "\uFFFD",
	`"`, "&#34;",
	"&", "&amp;",
	"'", "&#39;",
	"+", "&#43;",
	"<", "&lt;",
	">", "&gt;",
)

// escape is s as text that reads as s in an element or a quoted attribute
// value.
func escape(s string) string { return escaper.Replace(s) }

// unsafeURL is what a URL of another scheme becomes, as html/template
// writes it: a fragment link that goes nowhere and is easy to grep.
const unsafeURL = "#ZgotmplZ"

// filterURL is s when it is relative or http(s), else unsafeURL: a
// javascript:, data: or vbscript: link is never written.
func filterURL(s string) string {
	scheme, _, ok := strings.Cut(s, ":")
	if !ok || strings.Contains(scheme, "/") {
		return s // relative: no scheme before the first path segment
	}
	if strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https") {
		return s
	}
	return unsafeURL
}

// normalizeURL percent-encodes the bytes of s a URL may not hold as they
// are (spaces, quotes, angle brackets, non-ASCII), leaving RFC 3986's
// reserved and unreserved characters and valid escapes alone, as
// html/template does.
func normalizeURL(s string) string {
	var b strings.Builder
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte("!#$&*+,/:;=?@[]-._~", c) >= 0,
			'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			continue
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			continue
		}
		b.WriteString(s[written:i])
		fmt.Fprintf(&b, "%%%02x", c)
		written = i + 1
	}
	if written == 0 {
		return s
	}
	b.WriteString(s[written:])
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
