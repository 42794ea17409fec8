package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/browsertest"
)

// syncBuffer collects the demo's banner while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var driverAppLine = regexp.MustCompile(`Driver app\s+(\S+)`)

// TestDemoGuestJourneyInBrowser is the driver app's "done when": a new
// user on a phone-sized browser, against `chargestar demo` itself, opens
// the URL a station's QR code encodes, pays with the test card, charges
// at a simulated station, stops from the app and reads the receipt.
func TestDemoGuestJourneyInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo")
	}
	m := driverAppLine.FindStringSubmatch(runDemo(t, "--stations", "3", "--meter-interval", "2s", "--session-duration", "30m"))
	if m == nil {
		t.Fatal("no driver app URL in the banner")
	}
	appURL := m[1]

	b := browsertest.New(t)
	text := func(sel string) string {
		// Bounded: a missing element must not block until the browser's
		// own deadline.
		ctx, cancel := context.WithTimeout(b, 2*time.Second)
		defer cancel()
		var s string
		_ = chromedp.Run(ctx, chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.NodeReady))
		return s
	}
	waitFor := func(what string, ok func() bool, reload bool) {
		t.Helper()
		for deadline := time.Now().Add(45 * time.Second); !ok(); {
			if time.Now().After(deadline) {
				var loc, body string
				_ = chromedp.Run(b, chromedp.Location(&loc), chromedp.Text("body", &body, chromedp.ByQuery))
				t.Fatalf("%s: not reached at %s:\n%s", what, loc, body)
			}
			time.Sleep(300 * time.Millisecond)
			if reload {
				_ = chromedp.Run(b, chromedp.Reload())
			}
		}
	}
	if err := chromedp.Run(b, chromedp.Navigate(appURL)); err != nil {
		t.Fatal(err)
	}
	// The simulated station connects within a few seconds.
	waitFor("the station ready", func() bool { return strings.Contains(text(".status"), "Ready") }, true)
	if err := chromedp.Run(b, chromedp.Click(`form[action$="/pay"] button[type=submit]`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(b,
		chromedp.WaitVisible("#card_number", chromedp.ByQuery),
		chromedp.SendKeys("#card_number", "4242 4242 4242 4242", chromedp.ByQuery),
		chromedp.SendKeys("#exp", "12/30", chromedp.ByQuery),
		chromedp.SendKeys("#cvc", "123", chromedp.ByQuery),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
	); err != nil {
		t.Fatal(err)
	}
	waitFor("charging", func() bool { return text("#headline") == "Charging" }, false)
	waitFor("energy flowing", func() bool { e := text("#energy"); return e != "" && e != "0.00 kWh" }, false)
	if err := chromedp.Run(b, chromedp.Click("#stop", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	waitFor("the final price", func() bool { return text("#headline") == "Charging complete" }, false)
	if cost := text("#cost"); !strings.HasPrefix(cost, "$") || cost == "$0.00" {
		t.Fatalf("final cost %q", cost)
	}
	if err := chromedp.Run(b, chromedp.Click("#receipt-link", chromedp.ByQuery, chromedp.NodeVisible)); err != nil {
		t.Fatal(err)
	}
	waitFor("the receipt", func() bool {
		return strings.Contains(text("body"), "Tax invoice") && strings.Contains(text("body"), "Demo Car Parks")
	}, false)
}

// runDemo runs `chargestar demo` with args on a free port for the test
// (stopped when it ends) and returns its banner once printed.
func runDemo(t *testing.T, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- demoCmd(ctx, append([]string{"--addr", addr}, args...), &out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo: %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Error("demo did not stop")
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if banner := out.String(); strings.Contains(banner, "Press Ctrl-C") {
			return banner
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner:\n%s", out.String())
		}
	}
}
