package server

import (
	"embed"
	"sort"

	"github.com/syncgate/syncgate/server/internal/markup"
	"github.com/syncgate/syncgate/status"
)

// The status page's style and script, written as they are. The script
// swaps in each namespace section the gateway sends again when it changes
// (server-sent events from /events, see page_events.go).
//
//go:embed static/page_style.html static/page_script.html
var pageFiles embed.FS

var (
	pageStyle  = markup.Embedded(pageFiles, "static/page_style.html")
	pageScript = markup.Embedded(pageFiles, "static/page_script.html")
)

// writePage draws the whole status page: the commit asked about, if any,
// then every namespace's section.
func writePage(w *markup.Writer, d pageData) {
	w.HTML("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
	w.Text(d.Title)
	w.HTML(" · syncgate</title>\n<link rel=\"icon\" href=\"data:,\">\n")
	w.Include(pageStyle)
	w.HTML("</head>\n<body>\n<header class=\"top\">\n  <div class=\"brand\">syncgate</div>\n  <div class=\"where\">cluster <code>")
	w.Text(d.Cluster)
	w.HTML("</code></div>\n" +
		"  <div id=\"live\" class=\"live\" title=\"updates as syncgate records each step\">connecting…</div>\n</header>\n<main>\n<h1>")
	w.Text(d.Title)
	w.HTML("</h1>\n")
	if d.Error != "" {
		w.Printf(`<p class="err">%s</p>`, d.Error)
	}
	w.HTML("\n")
	if d.Commit != nil {
		writeVerdict(w, d.Commit)
	}
	w.HTML("\n")
	for _, v := range d.Namespaces {
		writeSection(w, v)
	}
	w.HTML("\n</main>\n<footer>A commit links to its page on the forge that hosts the config repo (else to its status here); " +
		"state, duration and reason come from the namespace's Version; the measures cover the commits it records.</footer>\n")
	w.Include(pageScript)
	w.HTML("</body>\n</html>\n\n\n")
}

// writeVerdict is the verdict on the commit a /status/<sha> page is about,
// and each namespace's.
func writeVerdict(w *markup.Writer, a *answer) {
	w.Printf("\n<section class=\"verdict %s\">\n  <p>Commit <code>%s</code>: <span class=\"badge %s\">%s</span>", a.State, a.SHA, a.State, a.State)
	if a.Reason != "" {
		w.Printf(` <span class="reason">%s</span>`, a.Reason)
	}
	w.HTML("</p>\n  <table class=\"compact\"><tr><th>namespace</th><th>state</th><th>ready</th><th>reason</th></tr>\n  ")
	names := make([]string, 0, len(a.Namespaces))
	for ns := range a.Namespaces {
		names = append(names, ns)
	}
	sort.Strings(names)
	for _, ns := range names {
		v := a.Namespaces[ns]
		w.Printf(`<tr><td>%s</td><td><span class="badge %s">%s</span></td><td>`, ns, v.State, v.State)
		if v.Total != 0 {
			w.Printf("%d/%d", v.Ready, v.Total)
		}
		w.Printf("</td><td class=\"reason\">%s</td></tr>\n  ", v.Reason)
	}
	w.HTML("</table>\n</section>\n")
}

// section renders one namespace's part of the page, as the page has it and
// as live updates replace it.
func section(v nsView) string {
	var w markup.Writer
	writeSection(&w, v)
	return w.String()
}

func writeSection(w *markup.Writer, v nsView) {
	w.Printf("<section class=\"ns\" id=\"ns-%s\">\n  <div class=\"ns-head\">\n    <h2>%s</h2>\n", v.Namespace, v.Namespace)
	class, text := "progress", v.Ready
	switch v.Ready {
	case "True":
		class, text = "deployed", "ready"
	case "False":
		class, text = "failed", "not ready"
	case "":
		text = "no Version yet"
	}
	w.Printf("    <span class=\"badge %s\">%s</span>\n    ", class, text)
	if v.Applied != "" {
		w.Printf(`<span class="meta">applied <code>%s</code>`, status.ShortSHA(v.Applied))
		if v.Deployed != "" {
			w.Printf(` · deployed <code>%s</code>`, status.ShortSHA(v.Deployed))
		}
		w.HTML("</span>")
	}
	w.HTML("\n  </div>\n  ")
	if v.Message != "" {
		w.Printf(`<p class="message">%s</p>`, v.Message)
	}
	w.HTML("\n  ")
	if v.InFlight != nil {
		writeFlight(w, v.InFlight)
	}
	w.HTML("\n  ")
	writeMeasures(w, v.Measures)
	w.HTML("\n  <table class=\"timeline\">\n" +
		"    <thead><tr><th>commit</th><th>message</th><th>author</th><th>committed</th><th>state</th><th>duration</th><th>finished</th></tr></thead>\n" +
		"    <tbody>\n    ")
	for _, r := range v.Timeline {
		writeRow(w, r)
	}
	if len(v.Timeline) == 0 {
		w.HTML(`<tr><td colspan="7" class="muted">No commit recorded yet.</td></tr>`)
	}
	w.HTML("\n    </tbody>\n  </table>\n</section>")
}

// writeFlight is the commit a namespace is applying or rolling out, with
// its progress bar.
func writeFlight(w *markup.Writer, f *flight) {
	w.Printf("<div class=\"flight\">\n    <div class=\"flight-head\"><span class=\"badge progress\">%s</span> <code>%s</code> %s",
		f.State, status.ShortSHA(f.SHA), f.Subject)
	if f.For != "" {
		w.Printf(` <span class="muted">· %s</span>`, f.For)
	}
	w.Printf("</div>\n    <div class=\"bar\" role=\"progressbar\" aria-valuemin=\"0\" aria-valuemax=\"%d\" aria-valuenow=\"%d\">"+
		"<div style=\"width: %d%%\"></div></div>\n    <div class=\"muted\">", f.Total, f.Ready, f.Percent)
	if f.Total != 0 {
		w.Printf("%d of %d objects ready", f.Ready, f.Total)
	} else {
		w.HTML("waiting for the first objects")
	}
	w.HTML("</div>\n  </div>")
}

// writeMeasures is a namespace's four delivery measures, each a figure, a
// chart and a note.
func writeMeasures(w *markup.Writer, m measuresView) {
	w.HTML("<div class=\"measures\">\n")
	measure := func(label, figure string, chart markup.Fragment, note string) {
		w.Printf(`    <div class="measure"><div class="label">%s</div><div class="figure">%s</div>%s<div class="note">%s</div></div>`+"\n",
			label, figure, chart, note)
	}
	measure("Lead time", m.LeadTime, m.LeadChart, m.LeadNote)
	measure("Deployment frequency", m.Frequency, m.FrequencyChart, m.FrequencyNote)
	measure("Change failure rate", m.FailureRate, m.FailureChart, m.FailureNote)
	measure("Time to restore", m.Restore, m.RestoreChart, m.RestoreNote)
	w.HTML("  </div>")
}

// writeRow is one commit of a namespace's timeline.
func writeRow(w *markup.Writer, r row) {
	w.Printf("<tr class=\"%s\">\n      <td><a href=\"", r.Class)
	w.URL(r.Link)
	w.Printf("\" title=\"%s\"><code>%s</code></a></td>\n      <td class=\"subject\">%s", r.SHA, status.ShortSHA(r.SHA), r.Subject)
	if r.Note != "" {
		w.Printf(`<div class="muted">%s</div>`, r.Note)
	}
	if r.Reason != "" {
		w.Printf(`<div class="reason">%s</div>`, r.Reason)
	}
	w.Printf("</td>\n      <td>%s</td>\n      <td class=\"when\">", r.Author)
	if r.Committed != "" {
		w.Printf(`<time datetime="%s" title="%s">%s</time>`, r.Committed, r.Committed, r.CommittedAgo)
	} else {
		w.Text(r.CommittedAgo)
	}
	w.Printf("</td>\n      <td><a class=\"badge %s\" href=\"", r.Class)
	w.URL("/status/" + r.SHA)
	w.Printf("\">%s</a></td>\n      <td class=\"when\">%s</td>\n      <td class=\"when\">", r.State, r.Duration)
	if r.Finished != "" {
		w.Printf(`<span title="%s">%s</span>`, r.Finished, r.Ago)
	} else {
		w.Text(r.Ago)
	}
	w.HTML("</td>\n    </tr>\n    ")
}
