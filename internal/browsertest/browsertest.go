// Package browsertest runs UI tests in a real browser: Debian's chromium,
// driven with chromedp. Without a browser the tests skip with the reason
// (CHARGESTAR_TEST_STRICT=1, as in CI, makes that a failure); CI installs
// it (.ci/run: apt-get install chromium). Screenshots go to
// docs/screenshots when CHARGESTAR_SCREENSHOTS=1.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/testutil"
)

// Phone is the viewport of the tests: a common phone, CSS pixels.
const (
	PhoneWidth  = 390
	PhoneHeight = 844
)

// ChromiumPath finds the browser: $CHARGESTAR_CHROMIUM, else chromium or
// chromium-browser on PATH.
func ChromiumPath() string {
	if p := os.Getenv("CHARGESTAR_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts a headless browser with a phone-sized window for the test and
// returns a chromedp context (closed when the test ends).
func New(t testing.TB) context.Context {
	t.Helper()
	path := ChromiumPath()
	if path == "" {
		testutil.SkipOrFail(t, "no Chromium found (apt-get install chromium, or set CHARGESTAR_CHROMIUM)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root in a container
		chromedp.WindowSize(PhoneWidth, PhoneHeight),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserAgent("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(PhoneWidth, PhoneHeight, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// Screenshot saves a full-page screenshot as docs/screenshots/name.png
// when CHARGESTAR_SCREENSHOTS=1 (the README shows them); otherwise it
// still takes it, so a page that cannot be rendered fails the test.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if os.Getenv("CHARGESTAR_SCREENSHOTS") != "1" {
		return
	}
	dir := filepath.Join(testutil.RepoRoot(), "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
