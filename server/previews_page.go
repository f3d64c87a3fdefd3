package server

import (
	"embed"
	"html/template"

	"github.com/gin-gonic/gin"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/preview"
)

//go:embed previewtemplates/preview.html
var previewTemplateFS embed.FS

var previewTemplate = template.Must(template.New("preview.html").Funcs(template.FuncMap{
	"short": status.ShortSHA,
	"diff":  diffHTML,
}).ParseFS(previewTemplateFS, "previewtemplates/preview.html"))

// diffHTML is one field change as diff lines: removed value, added
// value; a Secret's value never, only that it changed.
func diffHTML(f apply.FieldChange) template.HTML {
	line := func(class, text string) string {
		return `<span class="` + class + `">` + template.HTMLEscapeString(text) + "</span>"
	}
	if f.Hidden {
		return template.HTML(line("hid", "! "+f.Path+": "+f.Op+"d (value hidden)"))
	}
	var s string
	if f.From != "" {
		s += line("del", "- "+f.Path+": "+f.From)
	}
	if f.To != "" {
		s += line("add", "+ "+f.Path+": "+f.To)
	}
	return template.HTML(s) //nolint:gosec // every piece is escaped above
}

type previewData struct {
	Cluster string
	Result  *preview.Result
	Error   string
}

func (s *Server) previewPage(c *gin.Context, code int, res *preview.Result, msg string) {
	c.Status(code)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := previewTemplate.Execute(c.Writer, previewData{Cluster: s.opts.Cluster, Result: res, Error: msg}); err != nil {
		s.log.Warn("render preview page", "err", err)
	}
}
