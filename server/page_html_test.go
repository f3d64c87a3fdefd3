package server

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status/lifecycle"
)

// Values from commits, forges and Versions are data on the page, never
// markup: each hostile one shows escaped, and none shows as it is.
func TestStatusPageEscapes(t *testing.T) {
	s, _ := goldenServer(t, func(commit string) string {
		if commit == sha('a') {
			return "javascript:alert(1)"
		}
		return forgeLink(commit)
	})
	verdict := answer{SHA: sha('d'), State: `failed" onmouseover="alert(1)`, Reason: `it said "no"`,
		Namespaces: map[string]lifecycle.Verdict{`web"><script>`: {State: `x' y`, Reason: "a & b"}}}
	page := renderPage(t, s, pageData{Title: `<b>"title"</b>`, Commit: &verdict, Namespaces: s.nsViews(goldenNow)})
	for _, tc := range []struct{ name, want, never string }{
		{"commit subject", "<td class=\"subject\">&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quoted&#34;", "<script>alert(1)"},
		{"author", "<td>Tom &amp; Jerry</td>", "Tom & Jerry"},
		{"reason", `<div class="reason">web: &#34;quoted&#34; reason with &#39;single&#39; &lt;b&gt;markup&lt;/b&gt; &amp; more</div>`, "<b>markup"},
		{"state in a class attribute", `<section class="verdict failed&#34; onmouseover=&#34;alert(1)">`, `onmouseover="`},
		{"reason of the verdict", `<span class="reason">it said &#34;no&#34;</span>`, `"no"`},
		{"namespace and its state", `<tr><td>web&#34;&gt;&lt;script&gt;</td><td><span class="badge x&#39; y">`, `web"><script>`},
		{"forge link", `<a href="#ZgotmplZ" title="` + sha('a') + `">`, "javascript:"},
		{"title", "<title>&lt;b&gt;&#34;title&#34;&lt;/b&gt; · syncgate</title>", "<b>\"title\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, page, tc.want)
			require.NotContains(t, page, tc.never)
		})
	}
}

// A preview's link, objects, refusals and field values are data too; a
// hidden value is never written.
func TestPreviewPageEscapes(t *testing.T) {
	s, _ := goldenServer(t, forgeLink)
	res := goldenPreview()
	res.URL = "javascript:alert(1)"
	res.Namespaces[0].Plan.Changed[0].Fields[0].To = `a+b" onclick="x`
	page := renderPreview(t, s, res, "")
	for _, tc := range []struct{ name, want, never string }{
		{"pull request link", `<a href="#ZgotmplZ">merge request !12</a>`, "javascript:"},
		{"object name", "<code>ConfigMap web/new&lt;cm&gt;</code>", "new<cm>"},
		{"field value", `<span class="add">+ spec.replicas: a&#43;b&#34; onclick=&#34;x</span>`, `onclick="`},
		{"refusal", "cluster-scoped &#34;ClusterRole&#34; is not allowed", `"ClusterRole"`},
		{"hidden value", `<span class="hid">! data.password: replaced (value hidden)</span>`, `data.password: y`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, page, tc.want)
			require.NotContains(t, page, tc.never)
		})
	}
}
