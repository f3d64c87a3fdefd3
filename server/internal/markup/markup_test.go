package markup

import (
	"fmt"
	"html/template"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var hostile = []string{
	"", "plain", `<script>alert(1)</script>`, `"quoted" and 'single'`, "Tom & Jerry", "a+b", "nul\x00byte",
	"é ü → ■", "bad \xff utf-8", "&amp; already", `</title><script>`, "%41 %zz %", "line\nbreak\ttab",
}

var links = []string{
	"https://git.example.com/team/config/commit/abc", "http://x", "/status/abc", "relative/path", "?q=1", "#top",
	"javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,<b>", "vbscript:x",
	"mailto:a@example.com", "ftp://x", "/a:b", "a/b:c", `https://x/a b/"q"/é?x=1&y=<2>#f`, "https://x/%41%4", "",
}

// asTemplate is how html/template writes v at the {{.}} of page.
func asTemplate(t *testing.T, page string, v string) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, template.Must(template.New("").Parse(page)).Execute(&b, v))
	return b.String()
}

// The escaping is html/template's, in text, attribute and title.
func TestEscapeAsHTMLTemplate(t *testing.T) {
	for _, s := range hostile {
		require.Equal(t, asTemplate(t, `<p>{{.}}</p>`, s), "<p>"+escape(s)+"</p>", "%q", s)
		require.Equal(t, asTemplate(t, `<p title="{{.}}">`, s), `<p title="`+escape(s)+`">`, "%q", s)
		require.Equal(t, asTemplate(t, `<title>{{.}}</title>`, s), "<title>"+escape(s)+"</title>", "%q", s)
	}
}

// A link is html/template's, but for mailto:, which no page here needs.
func TestURLAsHTMLTemplate(t *testing.T) {
	for _, s := range links {
		var w Writer
		w.URL(s)
		want := asTemplate(t, `<a href="{{.}}">`, s)
		if strings.HasPrefix(s, "mailto:") {
			want = `<a href="#ZgotmplZ">`
		}
		require.Equal(t, want, `<a href="`+w.String()+`">`, "%q", s)
	}
}

func TestHostileValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		draw func(w *Writer)
		want string
	}{
		{"script in text", func(w *Writer) { w.HTML("<td>"); w.Text("<script>alert(1)</script>"); w.HTML("</td>") },
			"<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"},
		{"quotes in an attribute", func(w *Writer) { w.HTML(`<span title="`); w.Text(`x" onmouseover="alert(1)`); w.HTML(`">`) },
			`<span title="x&#34; onmouseover=&#34;alert(1)">`},
		{"ampersand", func(w *Writer) { w.Text("Tom & Jerry") }, "Tom &amp; Jerry"},
		{"script link", func(w *Writer) { w.HTML(`<a href="`); w.URL("javascript:alert(1)"); w.HTML(`">`) }, `<a href="#ZgotmplZ">`},
		{"data link", func(w *Writer) { w.URL("DATA:text/html,<script>") }, "#ZgotmplZ"},
		{"link breaking out", func(w *Writer) { w.URL(`/x" onclick="alert(1)`) }, "/x%22%20onclick=%22alert%281%29"},
		{"printf escapes strings and stringers", func(w *Writer) {
			w.Printf(`<rect class="%s" x="%.1f" n="%d">%s</rect>`, `a"b`, 1.25, 3, stringer("<i>"))
		}, `<rect class="a&#34;b" x="1.2" n="3">&lt;i&gt;</rect>`},
		{"printf passes the numbers pages use through", func(w *Writer) {
			w.Printf("%d %x %d%% %.1f %v %s", -3, 255, int32(40), 0.25, 1e21, labelled(9))
		}, "-3 ff 40% 0.2 1e+21 &lt;9&gt;"},
		{"fragments as they are", func(w *Writer) {
			var b Writer
			b.HTML("<b>")
			b.Text("<&>")
			b.HTML("</b>")
			f := b.Fragment()
			w.Include(f)
			w.Printf("<i>%s</i>", f)
		}, "<b>&lt;&amp;&gt;</b><i><b>&lt;&amp;&gt;</b></i>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w Writer
			tc.draw(&w)
			require.Equal(t, tc.want, w.String())
		})
	}
}

// Any other argument is refused by name, rather than written as fmt
// would write it once escaped: %!d(string=8).
func TestPrintfRefusesOtherTypes(t *testing.T) {
	for _, tc := range []struct {
		arg  any
		want string
	}{
		{weight(8), "markup: Printf argument 2 (markup.weight) is not an int, int32, float64, string, error, Stringer or Fragment"},
		{ratio(0.25), "markup: Printf argument 2 (markup.ratio) is not an int, int32, float64, string, error, Stringer or Fragment"},
		{int64(7), "markup: Printf argument 2 (int64) is not an int, int32, float64, string, error, Stringer or Fragment"},
		{true, "markup: Printf argument 2 (bool) is not an int, int32, float64, string, error, Stringer or Fragment"},
		{[]string{"<b>"}, "markup: Printf argument 2 ([]string) is not an int, int32, float64, string, error, Stringer or Fragment"},
	} {
		t.Run(fmt.Sprintf("%T", tc.arg), func(t *testing.T) {
			var w Writer
			require.PanicsWithValue(t, tc.want, func() { w.Printf("%d %v", 1, tc.arg) })
		})
	}
}

type (
	weight   int
	ratio    float64
	labelled int
)

func (l labelled) String() string { return fmt.Sprintf("<%d>", int(l)) }

type stringer string

func (s stringer) String() string { return string(s) }

func FuzzEscape(f *testing.F) {
	for _, s := range append(hostile, links...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		require.Equal(t, asTemplate(t, `<p title="{{.}}">{{.}}</p>`, s), `<p title="`+escape(s)+`">`+escape(s)+"</p>")
		if strings.HasPrefix(strings.ToLower(s), "mailto:") {
			return
		}
		var w Writer
		w.URL(s)
		require.Equal(t, asTemplate(t, `<a href="{{.}}">`, s), `<a href="`+w.String()+`">`)
	})
}
