package server

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/browser"
)

// TestStatusPageInChromium looks at the page as a person would, in a real
// headless Chromium: it loads with no console error or failed request,
// shows a deployed and a failed commit, and follows the rollout in flight
// without reloading. SYNCGATE_SCREENSHOTS=dir keeps the screenshots.
func TestStatusPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	s, vs := newPageServer(t)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := browser.Start(ctx, 1280, 900)
	if errors.Is(err, browser.ErrNoChromium) {
		t.Skipf("SKIPPED: the status page is not checked in a browser: %v", err)
	}
	require.NoError(t, err)
	defer b.Close()

	var deployed, failed, progress string
	require.NoError(t, b.Run(
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`#ns-web`, chromedp.ByID),
		chromedp.WaitVisible(`#live.on`, chromedp.ByQuery), // the event stream is open
		chromedp.Text(`#ns-web tr.deployed`, &deployed, chromedp.ByQuery),
		chromedp.Text(`#ns-web tr.failed`, &failed, chromedp.ByQuery),
		chromedp.Text(`#ns-web .flight`, &progress, chromedp.ByQuery),
	))
	require.Contains(t, deployed, "Deploy web 1.1.0 to prod/web")
	require.Contains(t, failed, "Deploy web 1.2.0-crashloop to prod/web")
	require.Contains(t, failed, "CrashLoopBackOff")
	require.Contains(t, progress, "2 of 4 objects ready")
	b.Keep(t, "status-page-fixture.png")

	// The rollout moves on; the page follows without a reload.
	st, _ := pageFixture(time.Now())
	st.History[0].Ready = 3
	vs.set("web", st)
	require.NoError(t, b.Run(chromedp.Poll(`document.querySelector("#ns-web .flight").innerText.includes("3 of 4 objects ready")`, nil,
		chromedp.WithPollingTimeout(10*time.Second))))
	require.Empty(t, b.Problems())
}
