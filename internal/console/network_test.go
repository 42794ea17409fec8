package console_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/browsertest"
)

// run runs chromedp actions, failing the test with what was being done.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// evalAwait evaluates a JavaScript expression that yields a promise in the
// page and decodes the promise's (JSON-serialisable) value into out.
func evalAwait(t *testing.T, ctx context.Context, js string, out any) {
	t.Helper()
	run(t, ctx, "starting "+js, chromedp.Evaluate(`window.__csDone = undefined; Promise.resolve(`+js+`).then(
		v => { window.__csDone = JSON.stringify({ok: v}); }, e => { window.__csDone = JSON.stringify({err: String(e)}); }); 0`, nil))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var done string
		run(t, ctx, "polling "+js, chromedp.Evaluate(`window.__csDone || ""`, &done))
		if done != "" {
			var r struct {
				OK  json.RawMessage
				Err string
			}
			if err := json.Unmarshal([]byte(done), &r); err != nil || r.Err != "" {
				t.Fatalf("%s: %v %s", js, err, r.Err)
			}
			if err := json.Unmarshal(r.OK, out); err != nil {
				t.Fatalf("%s: %v in %s", js, err, r.OK)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never settled", js)
}

// waitGone waits until no element matches sel (30 s at most).
func waitGone(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		run(t, ctx, "counting "+sel, chromedp.Evaluate(`document.querySelectorAll(`+jsString(sel)+`).length`, &n))
		if n == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s is still there", sel)
}

// setValue sets a form control's value (chromedp.SetValue refuses "").
func setValue(sel, v string) chromedp.Action {
	return chromedp.Evaluate(`document.querySelector(`+jsString(sel)+`).value = `+jsString(v), nil)
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestNetworkRegisterEditRetireStation(t *testing.T) {
	f := newFixture(t)
	ctx := browsertest.NewDesktop(t)
	f.signIn(t, ctx, f.owner)
	run(t, ctx, "opening the network page",
		chromedp.Navigate(f.srv.URL+"/console/network"),
		chromedp.WaitVisible("#site-new", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#sites-table tbody", "No sites yet")

	// A site with a wrong ABN is refused with the API's reason; corrected, it is created.
	run(t, ctx, "filling the site form",
		chromedp.Click("#site-new", chromedp.ByQuery),
		chromedp.SendKeys("#site-name", "Wharf Car Park", chromedp.ByQuery),
		chromedp.SendKeys("#site-address", "1 Quay St, Sydney NSW", chromedp.ByQuery),
		chromedp.SetValue("#site-timezone", "Australia/Sydney", chromedp.ByQuery),
		chromedp.SendKeys("#site-legal-name", "Wharf Parking Pty Ltd", chromedp.ByQuery),
		chromedp.SendKeys("#site-tax-id", "51 824 753 557", chromedp.ByQuery),
		chromedp.Click("#site-save", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#flash", "not a valid Australian Business Number")
	run(t, ctx, "correcting the ABN",
		setValue("#site-tax-id", "51824753556"),
		chromedp.Click("#site-save", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#sites-table tbody", "ABN 51 824 753 556")
	var sites struct {
		Items []struct{ ID, Name, Timezone, LegalName, TaxID string }
	}
	f.mustJSON(t, f.token, "GET", "/api/v1/sites", "", 200, &sites)
	if len(sites.Items) != 1 {
		t.Fatalf("sites %+v", sites)
	}
	var site map[string]any
	f.mustJSON(t, f.token, "GET", "/api/v1/sites/"+sites.Items[0].ID, "", 200, &site)
	if site["timezone"] != "Australia/Sydney" || site["legal_name"] != "Wharf Parking Pty Ltd" || site["tax_id"] != "51 824 753 556" ||
		site["address"] != "1 Quay St, Sydney NSW" {
		t.Fatalf("the site as stored: %v", site)
	}
	siteID := sites.Items[0].ID

	// Edit the site: another zone typed under "Other".
	run(t, ctx, "editing the site",
		chromedp.Click(`#sites-table tr[data-site="`+siteID+`"] button`, chromedp.ByQuery),
		chromedp.SetValue("#site-timezone", "__other__", chromedp.ByQuery),
		chromedp.SetValue("#site-timezone-other", "Australia/Lord_Howe", chromedp.ByQuery),
		chromedp.Click("#site-save", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#sites-table tbody", "Australia/Lord_Howe")

	// Register a station at the site, with an OCPP Basic password.
	run(t, ctx, "registering a station",
		chromedp.Click("#station-new", chromedp.ByQuery),
		chromedp.SendKeys("#station-id", "CP-NET-1", chromedp.ByQuery),
		chromedp.SetValue("#station-site", siteID, chromedp.ByQuery),
		chromedp.SendKeys("#station-password", "station-secret-1", chromedp.ByQuery),
		chromedp.Click("#station-save", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#flash", "/ocpp/CP-NET-1")
	row := `#stations-table tr[data-station="CP-NET-1"]`
	browsertest.WaitText(t, ctx, row, "Wharf Car Park")
	browsertest.WaitText(t, ctx, row, "Basic")
	browsertest.WaitText(t, ctx, row, "never connected")
	var st map[string]any
	f.mustJSON(t, f.token, "GET", "/api/v1/stations/CP-NET-1", "", 200, &st)
	if st["site_id"] != siteID || st["password_set"] != true {
		t.Fatalf("the station as stored: %v", st)
	}
	var href string
	var ok bool
	run(t, ctx, "reading the links",
		chromedp.AttributeValue(row+" a.qr-link", "href", &href, &ok, chromedp.ByQuery))
	if !strings.HasSuffix(href, "/api/v1/stations/CP-NET-1/qr-sheet?format=pdf") {
		t.Fatalf("QR sheet link %q", href)
	}
	var console string
	run(t, ctx, "reading the station link", chromedp.AttributeValue(row+" td a", "href", &console, &ok, chromedp.ByQuery))
	if console != "/console/stations/CP-NET-1" {
		t.Errorf("station link %q", console)
	}

	// The QR sheet link answers a PDF to the browser's session (cookie, GET).
	var qr struct {
		Status int    `json:"status"`
		Type   string `json:"type"`
		Magic  string `json:"magic"`
	}
	evalAwait(t, ctx, `fetch(`+jsString(href)+`, {credentials: "same-origin"}).then(async r => ({status: r.status,
		type: r.headers.get("Content-Type"), magic: new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5))}))`, &qr)
	if qr.Status != 200 || qr.Type != "application/pdf" || qr.Magic != "%PDF-" {
		t.Fatalf("QR sheet: %+v", qr)
	}

	// Edit the station: turn Basic authentication off and take it off the site.
	run(t, ctx, "editing the station",
		chromedp.Click(row+` td.actions button:not(.retire)`, chromedp.ByQuery),
		chromedp.WaitVisible("#station-password-clear-label", chromedp.ByQuery),
		chromedp.Click("#station-password-clear", chromedp.ByQuery),
		setValue("#station-site", ""),
		chromedp.Click("#station-save", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#flash", "CP-NET-1 saved")
	browsertest.WaitText(t, ctx, row, "none")
	f.mustJSON(t, f.token, "GET", "/api/v1/stations/CP-NET-1", "", 200, &st)
	if st["site_id"] != nil || st["password_set"] != false {
		t.Fatalf("the edited station: %v", st)
	}

	// Retire it, confirming in place: it leaves the list, and shows greyed with the filter.
	run(t, ctx, "retiring the station",
		chromedp.Click(row+" button.retire", chromedp.ByQuery),
		chromedp.WaitVisible("#retire-confirm", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, row, "can no longer connect")
	run(t, ctx, "confirming", chromedp.Click("#retire-confirm", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, "#flash", "CP-NET-1 retired")
	waitGone(t, ctx, row)
	f.mustJSON(t, f.token, "GET", "/api/v1/stations/CP-NET-1", "", 200, &st)
	if st["retired_at"] == nil {
		t.Fatalf("the station is not retired: %v", st)
	}
	run(t, ctx, "showing retired stations", chromedp.Click("#filter-retired", chromedp.ByQuery))
	browsertest.WaitText(t, ctx, `#stations-table tr.retired[data-station="CP-NET-1"]`, "Retired")
	browsertest.Screenshot(t, ctx, "console-network")
}

// A finance user sees the network but no controls to change it.
func TestNetworkPageIsReadOnlyForFinance(t *testing.T) {
	f := newFixture(t)
	f.mustJSON(t, f.token, "POST", "/api/v1/sites", `{"name":"Harbour Lot"}`, 201, nil)
	f.mustJSON(t, f.token, "POST", "/api/v1/stations", `{"id":"CP-FIN-1"}`, 201, nil)
	fin := f.user(t, f.op.ID, "finance")
	ctx := browsertest.NewDesktop(t)
	f.signIn(t, ctx, fin)
	run(t, ctx, "opening the network page", chromedp.Navigate(f.srv.URL+"/console/network"))
	browsertest.WaitText(t, ctx, "#stations-table tbody", "CP-FIN-1")
	browsertest.WaitText(t, ctx, "#sites-table tbody", "Harbour Lot")
	var visible int
	run(t, ctx, "counting controls", chromedp.Evaluate(`[...document.querySelectorAll("#site-new, #station-new, #stations-table button, #sites-table button")].filter(b => b.offsetParent !== null).length`, &visible))
	if visible != 0 {
		t.Errorf("a finance user sees %d editing controls", visible)
	}
	browsertest.WaitText(t, ctx, `#stations-table tr[data-station="CP-FIN-1"]`, "QR sheet")
}
