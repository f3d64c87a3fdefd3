package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/browser"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
)

// TestDemo is `make demo` without a terminal: the same journey, to the end.
func TestDemo(t *testing.T) {
	cluster.Shared(t) // skipped with -short, like every test that needs a control plane
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out bytes.Buffer
	look := lookAtStatusPage(t)
	res, err := demo.Run(ctx, demo.Options{Out: &out, Tag: "2.3.4", Look: func(ctx context.Context, url string) error {
		// Look runs in the demo's goroutine: out holds all it printed so far.
		if err := printedCommandsWork(ctx, out.String()); err != nil {
			return err
		}
		return look(ctx, url)
	}})
	require.NoError(t, err, out.String())
	t.Logf("make demo:\n%s", out.String())
	require.Contains(t, res.WaitOutput, res.BumpSHA[:7]+" deployed in")
	require.Contains(t, res.WaitOutput, "rolling out")
	require.Contains(t, res.Markers, "local/demo/web/"+res.BumpSHA)
	require.Contains(t, res.Markers, "local/demo/web/"+res.BumpSHA[:7])
	require.Contains(t, res.Markers, "local/demo/_result/"+res.BumpSHA+".json")
	require.Contains(t, res.FailOutput, res.CrashSHA[:7]+" failed")
	require.Contains(t, res.FailOutput, "CrashLoopBackOff")
	require.Contains(t, res.Markers, "local/demo/_result/"+res.CrashSHA+".json")
	require.Contains(t, res.Markers, "local/demo/web/"+res.FixSHA)
	require.Contains(t, res.PreviewComment, "valid: 2 changed, 1 created, 1 pruned")
	require.Contains(t, res.PreviewComment, "+ spec.template.spec.containers[name=web].resources.requests.cpu: \"100m\"")
	require.Contains(t, res.PreviewComment, "prune <code>HorizontalPodAutoscaler demo/web</code>")
	require.Contains(t, res.PreviewOutput, "demo: valid: 2 changed, 1 created, 1 pruned")
	// The application commit the first bump names gets the rollout too.
	require.Contains(t, out.String(), "Syncgate-Origin: "+demo.AppRepo+"@"+res.AppSHA)
	require.Equal(t, "success", res.AppStatus.State)
	require.Equal(t, "syncgate/local/demo", res.AppStatus.Context)
	require.Contains(t, res.AppStatus.TargetURL, "/status/"+res.BumpSHA)
	require.Equal(t, []string{"queued", "in_progress", "success"}, res.AppDeployment.States())
	require.Equal(t, "local/demo", res.AppDeployment.Environment)
	require.Empty(t, staleSteps(t, out.String()), "README.md shows demo steps as the demo no longer prints them")
	require.Empty(t, staleCommands(t, out.String()), "README.md shows demo commands as the demo no longer runs them")
}

// stepRE is a demo step's heading, its words up to the first ':' or '('
// (after them, what changes from run to run: tags, addresses).
var stepRE = regexp.MustCompile(`(?m)^==> (\d+)\. ([^:(\n]*)`)

// shortSHA is a sha as the demo's headings show it.
var shortSHA = regexp.MustCompile(`\b[0-9a-f]{7}\b`)

// staleSteps is the README's transcript headings that the demo, which
// printed out, does not print under the same number.
func staleSteps(t *testing.T, out string) []string {
	readme := readREADME(t)
	printed := map[string]string{}
	for _, m := range stepRE.FindAllStringSubmatch(out, -1) {
		printed[m[1]] = shortSHA.ReplaceAllString(strings.TrimSpace(m[2]), "<sha>")
	}
	shown := stepRE.FindAllStringSubmatch(readme, -1)
	require.NotEmpty(t, shown, "README.md shows no demo step")
	var stale []string
	for _, m := range shown {
		if title := shortSHA.ReplaceAllString(strings.TrimSpace(m[2]), "<sha>"); printed[m[1]] != title {
			stale = append(stale, fmt.Sprintf("step %s: README %q, demo %q", m[1], title, printed[m[1]]))
		}
	}
	return stale
}

// readREADME is the text of README.md.
func readREADME(t *testing.T) string {
	root, err := cluster.RepoRoot()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	return string(b)
}

// shownCommand is a command a demo transcript shows, and a local URL in it.
var (
	shownCommand = regexp.MustCompile(`(?m)^    \$ (syncgate .*)$`)
	localURL     = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
)

// staleCommands is the commands README.md's demo transcripts show that the
// demo, which printed out, did not print (shas and addresses aside).
func staleCommands(t *testing.T, out string) []string {
	readme := readREADME(t)
	norm := func(c string) string {
		return localURL.ReplaceAllString(shortSHA.ReplaceAllString(c, "<sha>"), "<url>")
	}
	printed := map[string]bool{}
	for _, m := range shownCommand.FindAllStringSubmatch(out, -1) {
		printed[norm(m[1])] = true
	}
	shown := shownCommand.FindAllStringSubmatch(readme, -1)
	require.NotEmpty(t, shown, "README.md shows no demo command")
	var stale []string
	for _, m := range shown {
		if !printed[norm(m[1])] {
			stale = append(stale, m[1])
		}
	}
	return stale
}

// lookAtStatusPage opens the demo's status page in headless Chromium, as a
// person would: it loads with no console error or failed request, and shows
// a deployed and a failed commit. SYNCGATE_SCREENSHOTS=docs keeps the
// screenshot the README shows.
func lookAtStatusPage(t *testing.T) func(ctx context.Context, url string) error {
	return func(ctx context.Context, url string) error {
		if err := commitLinksAnswer(ctx, url); err != nil {
			return err
		}
		b, err := browser.Start(ctx, 1280, 900)
		if errors.Is(err, browser.ErrNoChromium) {
			t.Logf("SKIPPED: the demo's status page is not checked in a browser: %v", err)
			return nil
		}
		if err != nil {
			return err
		}
		defer b.Close()
		var deployed, failed string
		if err := b.Run(
			chromedp.Navigate(url+"/"),
			chromedp.WaitVisible(`#ns-demo`, chromedp.ByID),
			chromedp.WaitVisible(`#live.on`, chromedp.ByQuery),
			chromedp.Text(`#ns-demo tr.deployed`, &deployed, chromedp.ByQuery),
			chromedp.Text(`#ns-demo tr.failed`, &failed, chromedp.ByQuery),
		); err != nil {
			return fmt.Errorf("status page: %w", err)
		}
		b.Keep(t, "status-page.png")
		if !strings.Contains(deployed, "Deploy web") || !strings.Contains(failed, "CrashLoopBackOff") {
			return fmt.Errorf("status page: deployed row %q, failed row %q", deployed, failed)
		}
		if p := b.Problems(); len(p) > 0 {
			return fmt.Errorf("status page: the browser complained: %q", p)
		}
		return nil
	}
}

// commitLink is the link of a commit's sha in the status page's timeline.
var commitLink = regexp.MustCompile(`<a href="([^"]+)" title="[0-9a-f]{40}">`)

// commitLinksAnswer follows the status page's commit links, as a person
// clicking a sha would, and wants each page there.
func commitLinksAnswer(ctx context.Context, url string) error {
	page, err := getPage(ctx, url+"/")
	if err != nil {
		return err
	}
	links := commitLink.FindAllStringSubmatch(page, -1)
	if len(links) == 0 {
		return fmt.Errorf("status page: no commit links in\n%s", page)
	}
	for _, l := range links {
		href := html.UnescapeString(l[1])
		if strings.HasPrefix(href, "/") {
			href = url + href
		}
		if _, err := getPage(ctx, href); err != nil {
			return fmt.Errorf("status page: commit link: %w", err)
		}
	}
	return nil
}

// getPage fetches url as a browser would and wants 200, 409 or 202 (the status
// page of a deployed, failed or unfinished commit) back.
func getPage(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusAccepted, http.StatusConflict:
		return string(b), nil
	}
	return "", fmt.Errorf("GET %s answered %s", url, resp.Status)
}

// printedWait is a `syncgate wait` command the demo prints under "Where to
// look", through the gateway or on S3.
var printedWait = regexp.MustCompile(`(?m)^    (?:syncgate wait|on S3): +(.+)$`)

// printedCommandsWork runs the `syncgate wait` commands the demo printed,
// as a person would paste them, and wants each to tell the commit deployed.
func printedCommandsWork(ctx context.Context, out string) error {
	cmds := printedWait.FindAllStringSubmatch(out, -1)
	if len(cmds) != 2 {
		return fmt.Errorf("the demo printed %d syncgate wait commands, not 2 (through the gateway and on S3):\n%s", len(cmds), out)
	}
	for _, c := range cmds {
		cmd := exec.CommandContext(ctx, "bash", "-c", c[1]+" --timeout 30s")
		b, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(b), " deployed") {
			return fmt.Errorf("%s: %v:\n%s", c[1], err, b)
		}
	}
	return nil
}

// TestMakeHelpAsREADMEShows runs `make help` as a newcomer would (its output
// read by a pipe, as in a CI log or `| less`) and wants what README.md
// shows: every target, each described as the Makefile describes it, and no
// terminal colour codes.
func TestMakeHelpAsREADMEShows(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skipf("SKIPPED: no make: %v", err)
	}
	root, err := cluster.RepoRoot()
	require.NoError(t, err)
	shown := regexp.MustCompile("(?s)\n\\$ make help\n(.*?)```").FindStringSubmatch(readREADME(t))
	require.NotNil(t, shown, "README.md shows no make help")
	cmd := exec.Command("make", "--no-print-directory", "help")
	cmd.Dir = root
	out, err := cmd.Output()
	require.NoError(t, err)
	require.Equal(t, shown[1], string(out))
}
