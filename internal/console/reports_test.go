package console_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/chargestar/chargestar/internal/browsertest"
	"github.com/chargestar/chargestar/internal/servertest"
	"github.com/chargestar/chargestar/internal/testutil"
)

// reportTariff: $0.50/kWh and a $1.00 session fee, GST included; $50 hold.
const reportTariff = `{"currency":"AUD","elements":[{"price_components":[{"type":"ENERGY","price":0.50,"step_size":1},{"type":"FLAT","price":1.00,"step_size":1}]}],
  "chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"hold_amount":5000}}`

// paidSession plays one guest session end to end, as a driver and an OCPP
// 1.6 station do: checkout at /app/, the sandbox's hosted page paid with
// 4242, the remote start accepted, StartTransaction with the one-off
// token, StopTransaction after wh; it returns once the payment is
// captured, with the amounts the provider captured.
func (f *fixture) paidSession(t *testing.T, st *servertest.Station, wh int64) (captured, tax int64) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+"/app/api/checkouts", "application/json", strings.NewReader(`{"station_id":"`+st.ID+`","connector_id":1}`))
	if err != nil {
		t.Fatal(err)
	}
	var co struct {
		PaymentID   string `json:"payment_id"`
		CheckoutURL string `json:"checkout_url"`
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &co) != nil {
		t.Fatalf("checkout: %s %s", resp.Status, b)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.PostForm(co.CheckoutURL, url.Values{"card_number": {"4242 4242 4242 4242"}, "exp": {"12/30"}, "cvc": {"123"}, "name": {"A Driver"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("paying on the hosted page: %s", resp.Status)
	}
	call := st.ExpectCall("RemoteStartTransaction", 10*time.Second)
	var req struct {
		IDTag string `json:"idTag"`
	}
	_ = json.Unmarshal(call.Payload, &req)
	st.Reply(call, `{"status":"Accepted"}`)
	f.waitPayment(t, co.PaymentID, "authorized", "charging")
	start := time.Now().Add(-90 * time.Minute).Truncate(time.Second)
	m := st.CallOK("StartTransaction", fmt.Sprintf(`{"connectorId":1,"idTag":%q,"meterStart":0,"timestamp":%q}`, req.IDTag, start.UTC().Format(time.RFC3339)))
	tx := int(m["transactionId"].(float64))
	f.waitPayment(t, co.PaymentID, "charging")
	st.CallOK("StopTransaction", fmt.Sprintf(`{"transactionId":%d,"meterStop":%d,"timestamp":%q,"reason":"EVDisconnected"}`,
		tx, wh, start.Add(time.Hour).UTC().Format(time.RFC3339)))
	p := f.waitPayment(t, co.PaymentID, "captured")
	return p.AmountCaptured, p.AmountTax
}

type apiPayment struct {
	State          string `json:"state"`
	AmountCaptured int64  `json:"amount_captured"`
	AmountTax      int64  `json:"amount_tax"`
}

func (f *fixture) waitPayment(t *testing.T, id string, states ...string) apiPayment {
	t.Helper()
	var p apiPayment
	servertest.Eventually(t, 15*time.Second, "payment "+id+" "+strings.Join(states, "/"), func() bool {
		f.mustJSON(t, f.token, "GET", "/api/v1/payments/"+id, "", 200, &p)
		for _, s := range states {
			if p.State == s {
				return true
			}
		}
		return false
	})
	return p
}

// TestRevenueReportTotalsMatchSeededSessions: three sessions paid through
// the sandbox and captured; the revenue report's KPI tiles and totals row
// equal their sum (worked out here from the tariff and the energy), and so
// do the CSV and the PDF exports the page downloads.
func TestRevenueReportTotalsMatchSeededSessions(t *testing.T) {
	f := newFixture(t)
	var site, tr struct{ ID string }
	f.mustJSON(t, f.token, "POST", "/api/v1/sites", `{"name":"Harbour St car park","timezone":"Australia/Sydney"}`, 201, &site)
	f.mustJSON(t, f.token, "POST", "/api/v1/tariffs", `{"name":"Standard","tariff":`+reportTariff+`}`, 201, &tr)
	f.mustJSON(t, f.token, "PUT", "/api/v1/tariff-assignments", `{"scope":"operator","tariff_id":"`+tr.ID+`"}`, 200, nil)
	f.mustJSON(t, f.token, "POST", "/api/v1/stations", `{"id":"CP-REPORT-1","site_id":"`+site.ID+`"}`, 201, nil)
	st, _, err := f.srv.Dial(t, "CP-REPORT-1", servertest.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Boot()
	st.CallOK("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Available"}`)

	var gross, tax, energy int64
	for _, kwh := range []int64{12, 20, 7} {
		// $0.50 × kWh + $1.00, GST 1/11 of it rounded to the cent.
		want := kwh*50 + 100
		wantTax := int64(math.Round(float64(want) / 11))
		got, gotTax := f.paidSession(t, st, kwh*1000)
		if got != want || gotTax != wantTax {
			t.Fatalf("%d kWh captured %d (GST %d), want %d (GST %d)", kwh, got, gotTax, want, wantTax)
		}
		gross, tax, energy = gross+want, tax+wantTax, energy+kwh
	}
	net := gross - tax // no fees, no refunds
	money := func(v int64) string { return fmt.Sprintf("$%d.%02d", v/100, v%100) }

	ctx := browsertest.NewDesktop(t)
	var exceptions []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			exceptions = append(exceptions, e.ExceptionDetails.Text+" "+e.ExceptionDetails.Exception.Description)
		}
	})
	f.signIn(t, ctx, f.owner)
	if err := chromedp.Run(ctx, chromedp.Navigate(f.srv.URL+"/console/reports")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#revenue-table-totals", money(gross))
	for kpi, want := range map[string]string{"gross": money(gross), "tax": money(tax), "net": money(net), "sessions": "3",
		"energy": fmt.Sprintf("%d kWh", energy), "refunds": "$0.00"} {
		browsertest.WaitText(t, ctx, `[data-kpi="`+kpi+`"] b`, want)
	}
	var foot []string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll("#revenue-table-totals td")].map(td => td.textContent)`, &foot)); err != nil {
		t.Fatal(err)
	}
	// Period, sessions, energy, gross, GST, provider fees, platform fees, refunds, net.
	if len(foot) != 9 || foot[0] != "Total" || foot[1] != "3" || foot[3] != money(gross) || foot[4] != money(tax) || foot[8] != money(net) {
		t.Fatalf("totals row %q; want gross %s, GST %s, net %s", foot, money(gross), money(tax), money(net))
	}
	// The chart was drawn (uPlot, served from the console's vendor files).
	var canvases int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll("#chart canvas").length`, &canvases)); err != nil || canvases == 0 {
		t.Errorf("no chart canvas (%v)", err)
	}
	browsertest.Screenshot(t, ctx, "console-reports")

	// The CSV export, fetched as the export button does (the console's
	// session, the button's path): its total line is the same sum.
	var exportPath string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector("#export-csv").dataset.path`, &exportPath)); err != nil || !strings.Contains(exportPath, "format=csv") {
		t.Fatalf("export path %q (%v)", exportPath, err)
	}
	var body string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`fetch("/api/v1`+exportPath+`", {headers: {Accept: "text/csv"}}).then(r => r.text())`, &body,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) < 3 {
		t.Fatalf("CSV %v:\n%s", err, body)
	}
	head, last := recs[0], recs[len(recs)-1]
	col := map[string]string{}
	for i, h := range head {
		col[h] = last[i]
	}
	plain := func(v int64) string { return fmt.Sprintf("%d.%02d", v/100, v%100) }
	if col["period_start"] != "total" || col["sessions"] != "3" || col["gross"] != plain(gross) || col["tax"] != plain(tax) || col["net"] != plain(net) {
		t.Fatalf("CSV total line %v; want gross %s, tax %s, net %s\n%s", col, plain(gross), plain(tax), plain(net), body)
	}

	// The PDF export of the same report reads back with the same totals.
	status, pdf := f.srv.APIWithToken(t, f.token, "GET", strings.Replace("/api/v1"+exportPath, "format=csv", "format=pdf", 1), "")
	if status != 200 || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("PDF export: %d %.40q", status, pdf)
	}
	if bin, err := exec.LookPath("pdftotext"); err != nil {
		testutil.SkipOrFail(t, "pdftotext not on PATH (Debian: apt-get install poppler-utils)")
	} else {
		path := filepath.Join(t.TempDir(), "revenue.pdf")
		if err := os.WriteFile(path, []byte(pdf), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "-layout", path, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("pdftotext: %v %s", err, out)
		}
		for _, want := range []string{"Revenue report", "Harbour Parking", "Australia/Sydney", "Total", money(gross), money(tax), money(net)} {
			if !strings.Contains(string(out), want) {
				t.Errorf("the PDF lacks %q:\n%s", want, out)
			}
		}
	}

	// Usage and status tabs render their figures from the same sessions.
	if err := chromedp.Run(ctx, chromedp.Click("#tab-usage", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, `[data-kpi="sessions"] b`, "3")
	browsertest.WaitText(t, ctx, `[data-kpi="energy"] b`, fmt.Sprintf("%d kWh", energy))
	browsertest.WaitText(t, ctx, "#heatmap", "Mon")
	if err := chromedp.Run(ctx, chromedp.Click("#tab-status", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, `[data-kpi="stations"] b`, "1")
	browsertest.WaitText(t, ctx, "#status-table", "CP-REPORT-1")
	if len(exceptions) > 0 {
		t.Errorf("script errors: %q", exceptions)
	}
}

// TestReportsWithoutMoneyRights: a technician gets usage and status, no
// revenue tab.
func TestReportsWithoutMoneyRights(t *testing.T) {
	f := newFixture(t)
	tech := f.user(t, f.op.ID, "technician")
	ctx := browsertest.NewDesktop(t)
	f.signIn(t, ctx, tech)
	if err := chromedp.Run(ctx, chromedp.Navigate(f.srv.URL+"/console/reports")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitText(t, ctx, "#report-status", "Australia/Sydney")
	var state struct {
		RevenueHidden bool
		Selected      string
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(`({RevenueHidden: document.querySelector("#tab-revenue").hidden,
		Selected: document.querySelector("[role=tab][aria-selected=true]").dataset.tab})`, &state)); err != nil {
		t.Fatal(err)
	}
	if !state.RevenueHidden || state.Selected != "usage" {
		t.Fatalf("a technician's reports: %+v", state)
	}
}
