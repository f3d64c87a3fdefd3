package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/syncgate/syncgate/repourl"
)

// setting is one flag with its environment variable, its built-in default
// (as it would be written on the command line) and the typed config field
// it fills.
type setting struct {
	flag, env, def, usage string
	val                   value
}

// value is a typed pflag.Value bound to one field of config. Set checks
// what it is given and answers in words a setting error can carry.
type value interface {
	pflag.Value
	// target is the field the value fills, so a check can name the
	// setting by its field: a misspelt field does not compile.
	target() any
}

// emptyIsValue is what a setting whose documented empty value turns
// something off (PROBE_ADDR, APPLY_SERVICE_ACCOUNT) says: a variable set
// to nothing is that value, as --flag= is. For every other setting an
// empty variable is as good as unset (a ConfigMap's blank key), so the
// built-in default holds.
func emptyIsValue(v value) bool {
	t, ok := v.(*textValue)
	return ok && t.emptyOff
}

// settings is the bound list: each setting registered on a flag set, its
// value filled by load.
type settings struct {
	cfg    *config
	list   []setting
	fs     *pflag.FlagSet
	lookup func(string) (string, bool)
}

// bindSettings registers every setting as a flag. --help shows each
// variable's value when it is set (its credentials removed, secrets not at
// all), else the built-in default.
func bindSettings(fs *pflag.FlagSet, lookup func(string) (string, bool)) *settings {
	c := &config{}
	b := &settings{cfg: c, list: c.settings(), fs: fs, lookup: lookup}
	for _, s := range b.list {
		if err := s.val.Set(s.def); err != nil {
			panic(fmt.Sprintf("setting --%s: built-in default: %v", s.flag, err))
		}
		fs.Var(s.val, s.flag, fmt.Sprintf("%s [$%s]", s.usage, s.env))
		shown := s.def
		if v, ok := b.env(s); ok {
			shown = v
		}
		if sv, ok := s.val.(*textValue); ok && sv.secret && shown != "" {
			shown = "" // never print a secret in --help
		}
		fs.Lookup(s.flag).DefValue = repourl.Redact(shown) // a URL's credentials stay out of --help too
	}
	return b
}

// load is the one pass that applies the environment, once the command line
// is parsed: a setting the command line left alone takes its variable when
// that is set (the flag wins over the variable, the variable over the
// built-in default). Flags were checked as they were parsed (flagError).
func (b *settings) load() (*config, error) {
	for _, s := range b.list {
		if b.fs.Lookup(s.flag).Changed {
			continue
		}
		if v, ok := b.env(s); ok {
			if err := s.val.Set(v); err != nil {
				return nil, fmt.Errorf("invalid setting %s (--%s): %v", s.env, s.flag, err)
			}
		}
	}
	return b.cfg, nil
}

// env is setting s's variable, when it is set to something s takes.
func (b *settings) env(s setting) (string, bool) {
	v, ok := b.lookup(s.env)
	return v, ok && (v != "" || emptyIsValue(s.val))
}

// flagError turns pflag's error for a bad flag value into the same one
// line a bad variable gets.
func flagError(err error) error {
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) {
		for _, s := range (&config{}).settings() {
			if s.flag == bad.GetFlag().Name {
				return fmt.Errorf("invalid setting %s (--%s): %v", s.env, s.flag, bad.Unwrap())
			}
		}
	}
	return err
}

// invalid names the setting that fills field, in one line.
func (c *config) invalid(field any, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	for _, s := range c.settings() {
		if s.val.target() == field {
			return fmt.Errorf("invalid setting %s (--%s): %s", s.env, s.flag, msg)
		}
	}
	return fmt.Errorf("invalid setting: %s", msg)
}

// textValue is a string setting, cleaned as it is set.
type textValue struct {
	p        *string
	clean    func(string) string
	secret   bool // never shown
	emptyOff bool // empty is a value: it turns something off (emptyIsValue)
}

func text(p *string) *textValue { return &textValue{p: p, clean: func(s string) string { return s }} }

// trimmed drops surrounding space.
func trimmed(p *string) *textValue { return &textValue{p: p, clean: strings.TrimSpace} }

// lower takes one of a few words, in any case.
func lower(p *string) *textValue { return &textValue{p: p, clean: strings.ToLower} }

func cleaned(p *string, clean func(string) string) *textValue {
	return &textValue{p: p, clean: clean}
}

// trimmedOrOff is trimmed, and empty, from a variable too, turns
// something off.
func trimmedOrOff(p *string) *textValue { v := trimmed(p); v.emptyOff = true; return v }

func secret(p *string) *textValue { v := text(p); v.secret = true; return v }

func (v *textValue) Set(s string) error { *v.p = v.clean(s); return nil }
func (v *textValue) String() string     { return deref(v.p) }
func (v *textValue) Type() string       { return "string" }
func (v *textValue) target() any        { return v.p }

// listValue is a comma-separated list, spaces and repeats dropped.
type listValue struct{ p *[]string }

func list(p *[]string) *listValue { return &listValue{p} }

func (v *listValue) Set(s string) error { *v.p = splitList(s); return nil }
func (v *listValue) String() string {
	if v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}
func (v *listValue) Type() string { return "strings" }
func (v *listValue) target() any  { return v.p }

// boolValue takes an argument (--prune=false or --prune false), as it
// always has: no bare --prune.
type boolValue struct{ p *bool }

func boolean(p *bool) *boolValue { return &boolValue{p} }

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	*v.p = b
	return nil
}
func (v *boolValue) String() string { return strconv.FormatBool(v.p != nil && *v.p) }
func (v *boolValue) Type() string   { return "true|false" }
func (v *boolValue) target() any    { return v.p }

// countValue is a number, zero or more.
type countValue struct{ p *int64 }

func count(p *int64) *countValue { return &countValue{p} }

func (v *countValue) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a number", s)
	}
	*v.p = n
	return nil
}
func (v *countValue) String() string { return strconv.FormatInt(deref(v.p), 10) }
func (v *countValue) Type() string   { return "int" }
func (v *countValue) target() any    { return v.p }

// maxDuration caps every duration setting: none means more than a year,
// and sums such as MAX_WAIT_TIMEOUT plus the write grace must not
// overflow.
const maxDuration = 365 * 24 * time.Hour

// durationValue is a bare number of seconds (git-sync-operator's
// format) or a Go duration, at most maxDuration; 0 only where it turns
// something off.
type durationValue struct {
	p    *time.Duration
	zero bool
}

func duration(p *time.Duration) *durationValue      { return &durationValue{p: p} }
func durationOrOff(p *time.Duration) *durationValue { return &durationValue{p: p, zero: true} }

func (v *durationValue) Set(s string) error {
	d, err := parseInterval(s)
	switch {
	case errors.Is(err, errTooLong) || d > maxDuration:
		return fmt.Errorf("%q is more than %dh (a year)", s, int(maxDuration.Hours()))
	case v.zero && (err != nil || d < 0):
		return fmt.Errorf("%q is not a number of seconds or a Go duration (0: off)", s)
	case !v.zero && (err != nil || d <= 0):
		return fmt.Errorf("%q is not a positive number of seconds or a Go duration", s)
	}
	*v.p = d
	return nil
}
func (v *durationValue) String() string { return deref(v.p).String() }
func (v *durationValue) Type() string   { return "duration" }
func (v *durationValue) target() any    { return v.p }

// errTooLong is a number of seconds too large for a time.Duration.
var errTooLong = errors.New("too long for a duration")

// parseInterval accepts a bare number of seconds or a Go duration; a
// number of seconds too large for a Duration is an error, not a wrap.
func parseInterval(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) && n > 0 {
		return 0, errTooLong
	}
	if err == nil {
		switch {
		case n > int64(math.MaxInt64/time.Second):
			return 0, errTooLong
		case n < 0:
			return 0, fmt.Errorf("%d seconds: negative", n)
		}
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

func splitList(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
