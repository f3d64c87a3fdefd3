package previewreport

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/preview"
)

// stateOf is how a preview verdict is recorded as an owed report: valid
// as deployed, refused and error as failed (the reason tells them apart),
// work under way as applying.
func stateOf(verdict string) status.State {
	switch verdict {
	case preview.Valid:
		return status.Deployed
	case preview.Refused, preview.Error:
		return status.Failed
	}
	return status.Applying
}

// notPreviewed starts the reason of a namespace that could not be
// previewed: its status is an error, not a refusal of the commit.
const notPreviewed = "not previewed: "

// Updates are the status reports of a preview, one per namespace; a
// preview refused or failed as a whole (a fork, a fetch) gives each
// namespace its reason.
func Updates(cluster string, res *preview.Result) []status.Update {
	var out []status.Update
	for _, n := range res.Namespaces {
		out = append(out, status.Update{Cluster: cluster, Namespace: n.Namespace, SHA: res.SHA, State: stateOf(n.State),
			Reason: lifecycle.Bound(n.Summary(), lifecycle.MaxReason)})
	}
	if len(res.Namespaces) > 0 {
		return out
	}
	reason := "refused: " + res.Reason
	if res.State == preview.Error {
		reason = notPreviewed + res.Reason
	}
	for ns := range res.Against {
		out = append(out, status.Update{Cluster: cluster, Namespace: ns, SHA: res.SHA, State: stateOf(res.State), Reason: lifecycle.Bound(reason, lifecycle.MaxReason)})
	}
	return out
}

// Context is the status context (GitHub) or name (GitLab) of a
// namespace's preview.
func Context(cluster, namespace string) string {
	return status.Context(cluster, namespace) + "/preview"
}

// Description is a status description: the reason on one line, at most
// status.MaxDescription characters.
func Description(reason string) string {
	s := strings.Join(strings.Fields(reason), " ")
	if utf8.RuneCountInString(s) <= status.MaxDescription {
		return s
	}
	r := []rune(s)
	return string(r[:status.MaxDescription-1]) + "…"
}

// Marker is the hidden line by which a cluster's comment is found again.
func Marker(cluster string) string { return "<!-- syncgate-preview cluster=" + cluster + " -->" }

// Comment limits: GitHub refuses comments over 65,536 characters; an
// object's diff is cut after maxDiffLines, and the comment stops listing
// diffs past maxComment, both with a link to the page.
const (
	maxComment   = 60000
	maxDiffLines = 60
)

// Comment is the pull request comment of a preview: a summary table per
// namespace, then each object to create, change or prune with its diff
// in a collapsible block; Secret values are never shown. pageURL, when
// set, is the preview's page, linked where something is cut.
func Comment(cluster string, res *preview.Result, pageURL string) string {
	var b strings.Builder
	b.WriteString(Marker(cluster) + "\n")
	fmt.Fprintf(&b, "### syncgate preview of `%s` on cluster `%s`: %s\n\n", status.ShortSHA(res.SHA), cluster, headline(res))
	if res.Reason != "" {
		fmt.Fprintf(&b, "%s\n\n", oneLine(res.Reason))
	}
	if len(res.Namespaces) > 0 {
		b.WriteString("| namespace | verdict | created | changed | pruned | unchanged |\n|---|---|---:|---:|---:|---:|\n")
		for _, n := range res.Namespaces {
			c, ch, p, u := counts(n.Plan)
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", n.Namespace, cell(n.Summary()), c, ch, p, u)
		}
		b.WriteString("\n")
	}
	var details strings.Builder
	cut := 0
	for _, n := range res.Namespaces {
		for _, block := range blocks(n, pageURL) {
			if details.Len()+len(block) > maxComment-b.Len()-1000 {
				cut++
				continue
			}
			details.WriteString(block)
		}
	}
	b.WriteString(details.String())
	if cut > 0 {
		fmt.Fprintf(&b, "\n%d more object(s) not shown here: the comment would be too long.", cut)
		if pageURL != "" {
			fmt.Fprintf(&b, " [See the whole preview](%s).", pageURL)
		}
		b.WriteString("\n")
	}
	if pageURL != "" {
		fmt.Fprintf(&b, "\n<sub>[Whole preview](%s) · nothing was applied: server-side dry run as each namespace's identity</sub>\n", pageURL)
	} else {
		b.WriteString("\n<sub>nothing was applied: server-side dry run as each namespace's identity</sub>\n")
	}
	return b.String()
}

func headline(res *preview.Result) string {
	switch res.State {
	case preview.Valid:
		return "**valid**"
	case preview.Refused:
		return "**refused**"
	case preview.Error:
		return "**not previewed**"
	}
	return res.State
}

func counts(p *apply.Plan) (string, string, string, string) {
	if p == nil {
		return "–", "–", "–", "–"
	}
	return fmt.Sprint(len(p.Created)), fmt.Sprint(len(p.Changed)), fmt.Sprint(len(p.Pruned)), fmt.Sprint(p.Unchanged)
}

// blocks are the collapsible sections of one namespace: its refusals, then
// each object to create, change and prune.
func blocks(n *preview.Namespace, pageURL string) []string {
	var out []string
	for _, r := range n.Refusals {
		what := r.Object
		if r.File != "" {
			what = strings.TrimSpace(r.File + " " + r.Object)
		}
		out = append(out, fmt.Sprintf("- :x: `%s` %s\n", n.Namespace, cell(strings.TrimSpace(what+": "+r.Message))))
	}
	if n.Plan == nil {
		return out
	}
	for _, c := range n.Plan.Created {
		out = append(out, objectBlock("create", c, pageURL))
	}
	for _, c := range n.Plan.Changed {
		out = append(out, objectBlock("change", c, pageURL))
	}
	for _, r := range n.Plan.Pruned {
		out = append(out, fmt.Sprintf("<details><summary>prune <code>%s</code></summary>\n\n```diff\n- %s (deleted)\n```\n</details>\n\n", html(r.String()), r.String()))
	}
	for _, k := range n.Plan.Kept {
		out = append(out, fmt.Sprintf("- kept, not pruned: `%s`\n", cell(k.String())))
	}
	return out
}

func objectBlock(verb string, c apply.ObjectChange, pageURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>%s <code>%s</code> (%d field(s))</summary>\n\n", verb, html(c.Object.String()), len(c.Fields))
	if c.Note != "" {
		fmt.Fprintf(&b, "%s\n\n", oneLine(c.Note))
	}
	b.WriteString("```diff\n")
	for i, f := range c.Fields {
		if i == maxDiffLines {
			fmt.Fprintf(&b, "# … %d more field(s)", len(c.Fields)-i)
			if pageURL != "" {
				b.WriteString(": see " + pageURL)
			}
			b.WriteString("\n")
			break
		}
		b.WriteString(DiffLines(f))
	}
	b.WriteString("```\n</details>\n\n")
	return b.String()
}

// DiffLines is a field change as diff lines: "- path: old" and
// "+ path: new"; a Secret's value only as changed, added or removed.
func DiffLines(f apply.FieldChange) string {
	if f.Hidden {
		return "! " + f.Path + ": " + f.Op + "d (value hidden)\n"
	}
	var s string
	if f.From != "" {
		s += "- " + f.Path + ": " + fence(f.From) + "\n"
	}
	if f.To != "" {
		s += "+ " + f.Path + ": " + fence(f.To) + "\n"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cell keeps text inside one table cell.
func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", "\\|") }

// fence keeps a value from closing the code block.
func fence(s string) string { return strings.ReplaceAll(oneLine(s), "```", "'''") }

func html(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
