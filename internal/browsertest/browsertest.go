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
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/testutil"
)

// Phone is the viewport of the driver app's tests: a common phone, CSS
// pixels. Desktop is the operator console's: a common laptop.
const (
	PhoneWidth    = 390
	PhoneHeight   = 844
	DesktopWidth  = 1366
	DesktopHeight = 900
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
	return start(t, false)
}

// NewDesktop starts a headless browser with a laptop-sized window (the
// operator console).
func NewDesktop(t testing.TB) context.Context {
	t.Helper()
	return start(t, true)
}

func start(t testing.TB, desktop bool) context.Context {
	t.Helper()
	w, h, ua := PhoneWidth, PhoneHeight, "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36"
	if desktop {
		w, h, ua = DesktopWidth, DesktopHeight, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"
	}
	path := ChromiumPath()
	if path == "" {
		testutil.SkipOrFail(t, "no Chromium found (apt-get install chromium, or set CHARGESTAR_CHROMIUM)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root in a container
		chromedp.WindowSize(w, h),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserAgent(ua),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	emulate := chromedp.EmulateViewport(int64(w), int64(h), chromedp.EmulateScale(2), chromedp.EmulateMobile)
	if desktop {
		emulate = chromedp.EmulateViewport(int64(w), int64(h), chromedp.EmulateScale(1))
	}
	if err := chromedp.Run(ctx, emulate); err != nil {
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

// WaitText waits until the element's text contains want (30 s at most).
// Each look is bounded: an element that is not there (yet) must not block
// until the browser's own deadline.
func WaitText(t testing.TB, ctx context.Context, sel, want string) {
	t.Helper()
	var got string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := chromedp.Run(tctx, chromedp.Text(sel, &got, chromedp.ByQuery, chromedp.NodeReady))
		cancel()
		if err == nil && strings.Contains(got, want) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	var loc string
	_ = chromedp.Run(ctx, chromedp.Location(&loc))
	t.Fatalf("%s never showed %q (last %q, at %s)", sel, want, got, loc)
}
