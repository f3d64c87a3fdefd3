package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ErrNoChromium is returned by Start when no Chromium is installed.
var ErrNoChromium = errors.New("no chromium on PATH (apt-get install chromium; make deps does)")

// Find returns the Chromium binary on PATH.
func Find() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Browser is one headless Chromium with one tab.
type Browser struct {
	ctx     context.Context
	cancel  func()
	profile string

	mu       sync.Mutex
	problems []string
}

// Start runs Chromium headless with a fresh profile (removed by Close) and
// a window of width×height, cut off from everything but the pages it is
// sent to: no sync, updates or background requests.
func Start(ctx context.Context, width, height int) (*Browser, error) {
	bin, err := Find()
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "syncgate-chromium-")
	if err != nil {
		return nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	b := &Browser{ctx: bctx, profile: profile, cancel: func() {
		_ = chromedp.Cancel(bctx) // closes the browser and waits for it
		bcancel()
		acancel()
	}}
	chromedp.ListenTarget(bctx, b.listen)
	if err := chromedp.Run(bctx); err != nil { // starts the browser
		b.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	return b, nil
}

// listen keeps console errors and warnings, uncaught exceptions and what
// the browser itself logged as an error or a warning (failed loads,
// refused resources).
func (b *Browser) listen(ev any) {
	var p string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.APITypeError || e.Type == runtime.APITypeWarning || e.Type == runtime.APITypeAssert {
			p = fmt.Sprintf("console.%s:", e.Type)
			for _, a := range e.Args {
				p += " " + string(a.Value)
			}
		}
	case *runtime.EventExceptionThrown:
		p = "uncaught: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			p += " " + e.ExceptionDetails.Exception.Description
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.LevelError || e.Entry.Level == log.LevelWarning {
			p = fmt.Sprintf("%s %s: %s %s", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL)
		}
	}
	if p != "" {
		b.mu.Lock()
		b.problems = append(b.problems, p)
		b.mu.Unlock()
	}
}

// Run runs actions in the tab, the log domain enabled first.
func (b *Browser) Run(actions ...chromedp.Action) error {
	return chromedp.Run(b.ctx, append([]chromedp.Action{log.Enable()}, actions...)...)
}

// Problems returns what the page's console and the browser complained
// about so far.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// Screenshot writes a PNG of the whole page to path.
func (b *Browser) Screenshot(path string) error {
	var png []byte
	if err := chromedp.Run(b.ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// Keep writes a screenshot of the whole page named name into the directory
// $SYNCGATE_SCREENSHOTS names, else into a temporary one, and returns its
// path.
func (b *Browser) Keep(tb testing.TB, name string) string {
	tb.Helper()
	dir := os.Getenv("SYNCGATE_SCREENSHOTS")
	if dir == "" {
		dir = tb.TempDir()
	}
	path := filepath.Join(dir, name)
	if err := b.Screenshot(path); err != nil {
		tb.Fatalf("screenshot %s: %v", name, err)
	}
	tb.Logf("screenshot: %s", path)
	return path
}

// Close ends the browser and removes its profile. Chromium's helper
// processes may still be writing there for a moment after it exits.
func (b *Browser) Close() {
	b.cancel()
	deadline := time.Now().Add(5 * time.Second)
	for os.RemoveAll(b.profile) != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}
