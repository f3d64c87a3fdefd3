package server

import (
	"embed"

	"github.com/gin-gonic/gin"

	"github.com/syncgate/syncgate/server/internal/markup"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/preview"
)

//go:embed static/preview_style.html
var previewFiles embed.FS

var previewStyle = markup.Embedded(previewFiles, "static/preview_style.html")

// previewPage is a preview's page: its verdict, each namespace's and what
// it would create, change and prune, field by field; or why there is none
// (msg). A preview under way reloads itself.
func (s *Server) previewPage(c *gin.Context, code int, res *preview.Result, msg string) {
	c.Status(code)
	c.Header("Content-Type", "text/html; charset=utf-8")
	var w markup.Writer
	writePreview(&w, s.opts.Cluster, res, msg)
	if _, err := w.WriteTo(c.Writer); err != nil {
		s.log.Debug("write preview page", "err", err)
	}
}

func writePreview(w *markup.Writer, cluster string, res *preview.Result, msg string) {
	w.HTML("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	if res != nil && !res.Final() {
		w.HTML(`<meta http-equiv="refresh" content="2">`)
	}
	w.HTML("\n<title>syncgate preview")
	if res != nil {
		w.Printf(" %s", status.ShortSHA(res.SHA))
	}
	w.Printf(" · %s</title>\n", cluster)
	w.Include(previewStyle)
	w.HTML("</head>\n<body>\n")
	switch {
	case msg != "":
		w.Printf("<h1>syncgate preview</h1><p>%s</p>", msg)
	case res != nil:
		writePreviewResult(w, cluster, res)
	}
	w.HTML("\n</body>\n</html>\n")
}

func writePreviewResult(w *markup.Writer, cluster string, res *preview.Result) {
	w.Printf("\n<h1>Preview of <code>%s</code> <span class=\"badge %s\">%s</span></h1>\n<div class=\"sub\">cluster <b>%s</b>",
		status.ShortSHA(res.SHA), res.State, res.State, cluster)
	if res.Number != 0 {
		w.HTML(" · ")
		if res.URL != "" {
			w.HTML(`<a href="`)
			w.URL(res.URL)
			w.HTML(`">`)
		}
		if res.Provider == "gitlab" {
			w.Printf("merge request !%d", res.Number)
		} else {
			w.Printf("pull request #%d", res.Number)
		}
		if res.URL != "" {
			w.HTML("</a>")
		}
	}
	w.Printf("\n · commit <code>%s</code>", res.SHA)
	if !res.Finished.IsZero() {
		w.Printf(" · made %s", res.Finished.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	w.HTML("\n · nothing was applied: server-side dry run as each namespace's identity</div>\n")
	if res.Reason != "" {
		w.Printf(`<div class="refusal">%s</div>`, res.Reason)
	}
	w.HTML("\n")
	if len(res.Namespaces) == 0 {
		return
	}
	w.HTML("\n<table>\n<tr><th>namespace</th><th>verdict</th><th>created</th><th>changed</th><th>pruned</th><th>unchanged</th><th>runs now</th></tr>\n")
	for _, ns := range res.Namespaces {
		w.Printf("<tr><td><code>%s</code></td><td><span class=\"badge %s\">%s</span></td>\n", ns.Namespace, ns.State, ns.Summary())
		if p := ns.Plan; p != nil {
			w.Printf(`<td class="n">%d</td><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td>`,
				len(p.Created), len(p.Changed), len(p.Pruned), p.Unchanged)
		} else {
			w.HTML(`<td class="n">–</td><td class="n">–</td><td class="n">–</td><td class="n">–</td>`)
		}
		w.Printf("\n<td><code>%s</code></td></tr>\n", status.ShortSHA(res.Against[ns.Namespace]))
	}
	w.HTML("</table>\n")
	for _, ns := range res.Namespaces {
		writePreviewNamespace(w, ns)
	}
	w.HTML("\n")
}

// writePreviewNamespace is what a namespace refused, then what it would
// create, change, prune and keep.
func writePreviewNamespace(w *markup.Writer, ns *preview.Namespace) {
	w.HTML("\n")
	for _, r := range ns.Refusals {
		w.Printf(`<div class="refusal">%s: `, ns.Namespace)
		if r.File != "" {
			w.Printf("%s ", r.File)
		}
		if r.Object != "" {
			w.Printf("%s: ", r.Object)
		}
		w.Printf("%s</div>", r.Message)
	}
	w.HTML("\n")
	p := ns.Plan
	if p == nil {
		return
	}
	w.HTML("\n")
	for _, c := range p.Created {
		w.Printf(`<details open><summary><span class="verb">create</span><code>%s</code> (%d fields)</summary>`, c.Object, len(c.Fields))
		if c.Note != "" {
			w.Printf(`<div class="note">%s</div>`, c.Note)
		}
		writeFields(w, c.Fields)
	}
	w.HTML("\n")
	for _, c := range p.Changed {
		w.Printf(`<details open><summary><span class="verb">change</span><code>%s</code> (%d fields)</summary>`, c.Object, len(c.Fields))
		writeFields(w, c.Fields)
	}
	w.HTML("\n")
	for _, o := range p.Pruned {
		w.Printf(`<details open><summary><span class="verb">prune</span><code>%s</code></summary><pre><span class="del">- %s (deleted)</span></pre></details>`, o, o)
	}
	w.HTML("\n")
	for _, k := range p.Kept {
		w.Printf(`<div class="note">kept, not pruned: <code>%s</code></div>`, k)
	}
	w.HTML("\n")
}

// writeFields is an object's field changes as diff lines: removed value,
// added value; a Secret's value never, only that it changed.
func writeFields(w *markup.Writer, fields []apply.FieldChange) {
	w.HTML("<pre>")
	for _, f := range fields {
		switch {
		case f.Hidden:
			w.Printf(`<span class="hid">! %s: %sd (value hidden)</span>`, f.Path, f.Op)
			continue
		case f.From != "":
			w.Printf(`<span class="del">- %s: %s</span>`, f.Path, f.From)
		}
		if f.To != "" {
			w.Printf(`<span class="add">+ %s: %s</span>`, f.Path, f.To)
		}
	}
	w.HTML("</pre></details>")
}
