package benchenv

import "strings"

// LogField is the value of key=value in one of the agent's text log lines,
// "" when the line has none.
func LogField(line, key string) string {
	_, rest, ok := strings.Cut(line, " "+key+"=")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, " ")
	return strings.Trim(v, `"`)
}
