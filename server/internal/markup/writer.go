package markup

import (
	"embed"
	"fmt"
	"io"
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
// int, int32 and float64 as they are, fragments as they are, strings,
// errors and Stringers escaped as text. Any other argument panics,
// named by position and type: a named number is converted where it is
// passed (int(n)), so nothing here looks past an argument's type. Not for
// links: a link's value goes through URL.
func (w *Writer) Printf(format constant, args ...any) {
	safe := make([]any, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case int, int32, float64:
			safe[i] = a
		case Fragment:
			safe[i] = a.html
		case string:
			safe[i] = escape(a)
		case fmt.Stringer:
			safe[i] = escape(a.String())
		case error:
			safe[i] = escape(a.Error())
		default:
			panic(fmt.Sprintf("markup: Printf argument %d (%T) is not an int, int32, float64, string, error, Stringer or Fragment", i+1, a))
		}
	}
	fmt.Fprintf(&w.b, string(format), safe...)
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
