package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	res, err := demo.Run(ctx, demo.Options{Out: &out, Tag: "2.3.4", Look: lookAtStatusPage(t)})
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
}

// lookAtStatusPage opens the demo's status page in headless Chromium, as a
// person would: it loads with no console error or failed request, and shows
// a deployed and a failed commit. SYNCGATE_SCREENSHOTS=docs keeps the
// screenshot the README shows.
func lookAtStatusPage(t *testing.T) func(ctx context.Context, url string) error {
	return func(ctx context.Context, url string) error {
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
