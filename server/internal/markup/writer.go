package markup

import (
	"embed"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// constant is a string only a constant can become outside this package:
// untyped string constants convert to it, string variables do not. So
// markup written as is cannot come from data by accident.
type constant string

// Fragment is HTML this package built: escaped values and constant
// markup, safe to write into a page as it is.
type Fragment struct{ html string }

// Writer builds a page or a fragment of one.
type Writer struct{ b strings.Builder }

// HTML writes markup as it is; only a constant can be given.
func (w *Writer) HTML(markup constant) { w.b.WriteString(string(markup)) }

// Text writes s escaped, for an element's text or a quoted attribute
// value.
func (w *Writer) Text(s string) { w.b.WriteString(escape(s)) }

// URL writes s as the quoted value of a link attribute (href): a URL
// whose scheme is not http or https becomes "#ZgotmplZ", then it is
// normalized and escaped as html/template does.
func (w *Writer) URL(s string) { w.b.WriteString(escape(normalizeURL(filterURL(s)))) }

// Include writes f as it is.
func (w *Writer) Include(f Fragment) { w.b.WriteString(f.html) }

// Printf writes format as markup, with its arguments formatted by fmt:
// numbers and booleans as they are (of any basic kind, named or not),
// fragments as they are, everything else (strings, errors,
// Stringers) escaped as text. Not for links: a link's value goes through
// URL.
func (w *Writer) Printf(format constant, args ...any) {
	safe := make([]any, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case Fragment:
			safe[i] = a.html
		case string:
			safe[i] = escape(a)
		case fmt.Stringer:
			safe[i] = escape(a.String())
		case error:
			safe[i] = escape(a.Error())
		default:
			if basic, ok := number(a); ok {
				safe[i] = basic
			} else {
				safe[i] = escape(fmt.Sprint(a))
			}
		}
	}
	fmt.Fprintf(&w.b, string(format), safe...)
}

// basicNumbers are the types fmt prints numbers and booleans as, by kind.
var basicNumbers = map[reflect.Kind]reflect.Type{
	reflect.Bool: reflect.TypeFor[bool](), reflect.Uintptr: reflect.TypeFor[uintptr](),
	reflect.Int: reflect.TypeFor[int](), reflect.Int8: reflect.TypeFor[int8](), reflect.Int16: reflect.TypeFor[int16](),
	reflect.Int32: reflect.TypeFor[int32](), reflect.Int64: reflect.TypeFor[int64](),
	reflect.Uint: reflect.TypeFor[uint](), reflect.Uint8: reflect.TypeFor[uint8](), reflect.Uint16: reflect.TypeFor[uint16](),
	reflect.Uint32: reflect.TypeFor[uint32](), reflect.Uint64: reflect.TypeFor[uint64](),
	reflect.Float32: reflect.TypeFor[float32](), reflect.Float64: reflect.TypeFor[float64](),
	reflect.Complex64: reflect.TypeFor[complex64](), reflect.Complex128: reflect.TypeFor[complex128](),
}

// number is a as its basic type when it is a number or a boolean, of a
// named type or not: converted, it has no method by which fmt could
// print anything other than digits.
func number(a any) (any, bool) {
	v := reflect.ValueOf(a)
	t, ok := basicNumbers[v.Kind()]
	if !ok {
		return nil, false
	}
	return v.Convert(t).Interface(), true
}

// Fragment is what was written so far.
func (w *Writer) Fragment() Fragment { return Fragment{w.b.String()} }

// String is what was written so far.
func (w *Writer) String() string { return w.b.String() }

// WriteTo writes what was written so far to out.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	n, err := io.WriteString(out, w.b.String())
	return int64(n), err
}

// Embedded is a file compiled into the binary, as a fragment: static
// markup such as a page's style or script. Only the compiler fills an
// embed.FS, so its files are as trusted as constants.
func Embedded(files embed.FS, name string) Fragment {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("markup: embedded %s: %v", name, err)) // a build mistake, found by any test
	}
	return Fragment{string(b)}
}
