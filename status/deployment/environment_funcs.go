package deployment

import (
	"errors"
	"fmt"
	"net/url"
	"text/template/parse"
)

// function is one of text/template's builtins: check gives the type of its
// result from the types of its arguments (or why they do not fit), run
// computes it. Arguments are expressions so that and/or stop at the first
// that decides, as text/template's do.
type function struct {
	check func(args []kind) (kind, error)
	run   func(s scope, args []expr) any
}

var functions = map[string]function{
	"eq":      {check: atLeast(2, compare(false)), run: eq},
	"ne":      {check: exactly(2, compare(false)), run: func(s scope, a []expr) any { return !eq(s, a).(bool) }},
	"lt":      {check: exactly(2, compare(true)), run: func(s scope, a []expr) any { return less(a[0](s), a[1](s)) }},
	"le":      {check: exactly(2, compare(true)), run: func(s scope, a []expr) any { return !less(a[1](s), a[0](s)) }},
	"gt":      {check: exactly(2, compare(true)), run: func(s scope, a []expr) any { return less(a[1](s), a[0](s)) }},
	"ge":      {check: exactly(2, compare(true)), run: func(s scope, a []expr) any { return !less(a[0](s), a[1](s)) }},
	"and":     {check: atLeast(1, same), run: func(s scope, a []expr) any { return decide(s, a, false) }},
	"or":      {check: atLeast(1, same), run: func(s scope, a []expr) any { return decide(s, a, true) }},
	"not":     {check: exactly(1, result(kindBool)), run: func(s scope, a []expr) any { return !truth(a[0](s)) }},
	"len":     {check: exactly(1, length), run: func(s scope, a []expr) any { return len(a[0](s).(string)) }},
	"print":   {check: atLeast(0, result(kindString)), run: func(s scope, a []expr) any { return fmt.Sprint(values(s, a)...) }},
	"println": {check: atLeast(0, result(kindString)), run: func(s scope, a []expr) any { return fmt.Sprintln(values(s, a)...) }},
	"printf":  {check: atLeast(1, format), run: printf},
	// text/template's URLQueryEscaper: its arguments printed as print
	// does (one string as it is), escaped for a URL's query.
	"urlquery": {check: atLeast(0, result(kindString)), run: func(s scope, a []expr) any { return url.QueryEscape(fmt.Sprint(values(s, a)...)) }},
}

// unsupported are text/template's other builtins: they index, slice or
// call values that these templates do not have, or escape for HTML and
// JavaScript, which names and URLs are not.
var unsupported = map[string]bool{"call": true, "html": true, "index": true, "js": true, "slice": true}

// call is a function applied to the arguments written after it and, in a
// pipeline, to the value of the command before (last).
func (c compiler) call(id *parse.IdentifierNode, argNodes []parse.Node, dot kind, last *typed) (expr, kind, error) {
	f, ok := functions[id.Ident]
	switch {
	case !ok && unsupported[id.Ident]:
		return nil, 0, c.refuse(id, "the function %s is not supported", id.Ident)
	case !ok:
		return nil, 0, c.refuse(id, "function %q not defined", id.Ident)
	}
	var (
		args  []expr
		kinds []kind
	)
	for _, n := range argNodes {
		v, k, err := c.operand(n, dot)
		if err != nil {
			return nil, 0, err
		}
		args, kinds = append(args, v), append(kinds, k)
	}
	if last != nil {
		args, kinds = append(args, last.value), append(kinds, last.kind)
	}
	k, err := f.check(kinds)
	if err != nil {
		return nil, 0, c.refuse(id, "%s: %v", id.Ident, err)
	}
	return func(s scope) any { return f.run(s, args) }, k, nil
}

func exactly(n int, then func([]kind) (kind, error)) func([]kind) (kind, error) {
	return func(args []kind) (kind, error) {
		if len(args) != n {
			return 0, fmt.Errorf("wrong number of args: want %d got %d", n, len(args))
		}
		return then(args)
	}
}

func atLeast(n int, then func([]kind) (kind, error)) func([]kind) (kind, error) {
	return func(args []kind) (kind, error) {
		if len(args) < n {
			return 0, fmt.Errorf("wrong number of args: want at least %d got %d", n, len(args))
		}
		return then(args)
	}
}

func result(k kind) func([]kind) (kind, error) {
	return func([]kind) (kind, error) { return k, nil }
}

// compare admits what text/template compares without an error: values of
// one basic type, ordered ones (strings, ints) for lt, le, gt and ge. A
// mixed value's type is known only when it runs, so it is refused.
func compare(ordered bool) func([]kind) (kind, error) {
	return func(args []kind) (kind, error) {
		for _, k := range args {
			if k == kindMixed {
				return 0, fmt.Errorf("invalid type for comparison (%s)", k)
			}
		}
		for _, k := range args[1:] {
			if k != args[0] {
				return 0, fmt.Errorf("incompatible types for comparison (%s and %s)", args[0], k)
			}
		}
		if args[0] == kindWhere || ordered && args[0] == kindBool {
			return 0, fmt.Errorf("invalid type for comparison (%s)", args[0])
		}
		return kindBool, nil
	}
}

// same: and and or give one of their arguments, so its type is known here
// only when they all have one type; otherwise it is mixed.
func same(args []kind) (kind, error) {
	for _, k := range args[1:] {
		if k != args[0] {
			return kindMixed, nil
		}
	}
	return args[0], nil
}

func length(args []kind) (kind, error) {
	if args[0] != kindString {
		return 0, fmt.Errorf("len of type %s", args[0])
	}
	return kindInt, nil
}

func format(args []kind) (kind, error) {
	if args[0] != kindString {
		return 0, errors.New("the format is not a string")
	}
	return kindString, nil
}

// eq is true when the first argument equals any of the others.
func eq(s scope, args []expr) any {
	first := args[0](s)
	for _, a := range args[1:] {
		if a(s) == first {
			return true
		}
	}
	return false
}

// less compares two strings or two ints, as checked.
func less(a, b any) bool {
	if a, ok := a.(int); ok {
		return a < b.(int)
	}
	return a.(string) < b.(string)
}

// decide is and (until false) or or (until true): the first argument whose
// truth is until, else the last.
func decide(s scope, args []expr, until bool) any {
	var v any
	for _, a := range args {
		if v = a(s); truth(v) == until {
			return v
		}
	}
	return v
}

func values(s scope, args []expr) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a(s)
	}
	return out
}

func printf(s scope, args []expr) any {
	v := values(s, args)
	return fmt.Sprintf(v[0].(string), v[1:]...)
}
