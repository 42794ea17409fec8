package driverapp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chargestar/chargestar/internal/model"
	"github.com/chargestar/chargestar/internal/servertest"
	"github.com/chargestar/chargestar/internal/store"
)

const tariff = `{"country_code":"AU","party_id":"CST","id":"T1","currency":"AUD","type":"AD_HOC_PAYMENT",
 "elements":[{"price_components":[{"type":"ENERGY","price":0.55,"step_size":1},{"type":"FLAT","price":1.00,"step_size":1}]}],
 "last_updated":"2026-01-01T00:00:00Z","chargestar":{"tax":{"name":"GST","rate":0.1,"included":true},"hold_amount":4000}}`

type fixture struct {
	srv *servertest.Server
	op  model.Operator
}

func setup(t *testing.T, withTariff bool) fixture {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{})
	f := fixture{srv: srv, op: srv.Operator(t, "Acme Parking")}
	if withTariff {
		assignTariff(t, f)
	}
	return f
}

func assignTariff(t *testing.T, f fixture) {
	t.Helper()
	ctx := context.Background()
	tr, err := f.srv.Store.SaveTariff(ctx, store.Tariff{OperatorID: f.op.ID, Name: "std", Body: []byte(tariff)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.Store.AssignTariff(ctx, store.TariffAssignment{OperatorID: f.op.ID, Scope: store.ScopeOperator, TariffID: tr.ID}); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) online(t *testing.T, id string) {
	f.srv.Station(t, f.op.ID, id, "")
	st := f.srv.Connect(t, id)
	st.Boot()
	st.CallOK("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"Available"}`)
}

func do(t *testing.T, method, url, ctype, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestQuote(t *testing.T) {
	f := setup(t, true)
	f.online(t, "CP1")
	code, m := do(t, "GET", f.srv.URL+"/app/api/stations/CP1/connectors/1", "", "")
	if code != 200 || m["hold_amount"].(float64) != 4000 || m["online"] != true || m["connector_status"] != "Available" ||
		!strings.Contains(m["price"].(string), "$0.55 per kWh") || !strings.Contains(m["price"].(string), "GST") {
		t.Fatalf("quote: %d %v", code, m)
	}
	code, m = do(t, "GET", f.srv.URL+"/app/api/stations/CP1/connectors/1?budget_amount=2000", "", "")
	if code != 200 || m["hold_amount"].(float64) < 2000 {
		t.Fatalf("quote with a budget: %d %v", code, m)
	}
	for _, c := range []struct{ path, code string }{
		{"/app/api/stations/NOPE/connectors/1", "not_found"},
		{"/app/api/stations/CP1/connectors/0", "bad_connector"},
		{"/app/api/stations/CP1/connectors/x", "bad_connector"},
		{"/app/api/stations/CP1/connectors/1?budget_amount=10&budget_wh=5", "bad_budget"},
		{"/app/api/stations/CP1/connectors/1?budget_amount=-1", "bad_budget"},
		{"/app/api/stations/CP1/connectors/1?budget_wh=lots", "bad_budget"},
	} {
		if _, m := do(t, "GET", f.srv.URL+c.path, "", ""); errCode(m) != c.code {
			t.Errorf("%s: %v, want %s", c.path, m, c.code)
		}
	}
}

func TestCheckoutRefusals(t *testing.T) {
	f := setup(t, true)
	f.online(t, "CP1")
	f.srv.Station(t, f.op.ID, "CP-OFF", "")
	for _, c := range []struct{ ctype, body, code string }{
		{"text/plain", `{"station_id":"CP1","connector_id":1}`, "json_required"},
		{"application/json", `{"station_id":"CP1","connector_id":1,"card_number":"4242"}`, "bad_request"},
		{"application/json", `not json`, "bad_request"},
		{"application/json", `{"station_id":"CP1","connector_id":1,"email":"nope"}`, "bad_email"},
		{"application/json", `{"station_id":"CP-OFF","connector_id":1}`, "station_offline"},
		{"application/json", `{"station_id":"NOPE","connector_id":1}`, "not_found"},
		{"application/json", `{"station_id":"CP1","connector_id":0}`, "bad_connector"},
	} {
		if _, m := do(t, "POST", f.srv.URL+"/app/api/checkouts", c.ctype, c.body); errCode(m) != c.code {
			t.Errorf("%s: %v, want %s", c.body, m, c.code)
		}
	}
	// Nothing was held for any of them.
	ps, err := f.srv.Store.ListSessionPayments(context.Background(), store.SessionPaymentFilter{})
	if err != nil || len(ps) != 0 {
		t.Fatalf("payments after refusals: %d %v", len(ps), err)
	}
}

func TestNoTariff(t *testing.T) {
	f := setup(t, false)
	f.online(t, "CP1")
	if _, m := do(t, "POST", f.srv.URL+"/app/api/checkouts", "application/json", `{"station_id":"CP1","connector_id":1}`); errCode(m) != "no_tariff" {
		t.Fatalf("no tariff: %v", m)
	}
}

func TestSessionPageNeedsItsToken(t *testing.T) {
	f := setup(t, true)
	f.online(t, "CP1")
	code, m := do(t, "POST", f.srv.URL+"/app/api/checkouts", "application/json", `{"station_id":"CP1","connector_id":1,"email":"d@example.com"}`)
	if code != 201 {
		t.Fatalf("checkout: %d %v", code, m)
	}
	id, tok := m["payment_id"].(string), m["access_token"].(string)
	if code, m := do(t, "GET", f.srv.URL+"/app/api/payments/"+id+"?t="+tok, "", ""); code != 200 || m["state"] != "quote" || m["checkout_url"] == nil {
		t.Fatalf("own page: %d %v", code, m)
	}
	for _, q := range []string{"", "?t=", "?t=" + strings.ToUpper(tok), "?t=x" + tok} {
		if code, _ := do(t, "GET", f.srv.URL+"/app/api/payments/"+id+q, "", ""); code != 404 {
			t.Errorf("token %q: %d", q, code)
		}
	}
	// The return page renders, with no inline script and a strict policy.
	resp, err := http.Get(f.srv.URL + "/app/p/" + id + "?t=" + tok)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Waiting for payment") ||
		strings.Count(string(b), "<script") != strings.Count(string(b), `<script src="/app/static/`) ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("return page: %s %s", resp.Status, b)
	}
	// Canceling before paying closes it; nothing held.
	req, _ := http.NewRequest("POST", f.srv.URL+"/app/api/payments/"+id+"/stop", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if p, _ := f.srv.Store.GetSessionPayment(context.Background(), id); p.State != "canceled" {
		t.Fatalf("canceled before paying: %s", p.State)
	}
	if code, _ := do(t, "GET", f.srv.URL+"/app/r/ZZZZ-ZZZZ", "", ""); code != 404 {
		t.Fatalf("unknown receipt: %d", code)
	}
}

// TestFirstPageWeight: what a phone downloads for the station page (the
// QR code's target): HTML, stylesheet and script, well under 100 KB.
func TestFirstPageWeight(t *testing.T) {
	f := setup(t, true)
	f.online(t, "CP1")
	total := 0
	for _, path := range []string{"/app/s/CP1/1", "/app/static/app.css", "/app/static/app.js"} {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", path, resp.Status)
		}
		total += len(b)
	}
	t.Logf("station page, stylesheet and script: %d bytes", total)
	if total > 100<<10 {
		t.Fatalf("first page weighs %d bytes", total)
	}
}

// TestStationPageStates: every state a driver may find a connector in has
// words and a way forward, and only a ready one offers to pay.
func TestStationPageStates(t *testing.T) {
	f := setup(t, true)
	f.srv.Station(t, f.op.ID, "CP1", "")
	st := f.srv.Connect(t, "CP1")
	st.Boot()
	f.srv.Station(t, f.op.ID, "CP-OFF", "")
	page := func(path string) (int, string) {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct{ status, want string }{
		{"Available", "Ready"},
		{"Preparing", "Cable plugged in"},
		{"Charging", "another car is charging"},
		{"Faulted", "reported a fault"},
		{"Unavailable", "taken out of service"},
	} {
		st.CallOK("StatusNotification", `{"connectorId":1,"errorCode":"NoError","status":"`+c.status+`"}`)
		_, body := page("/app/s/CP1/1")
		canPay := strings.Contains(body, `action="/app/s/CP1/1/pay"`)
		if !strings.Contains(body, c.want) || canPay != (c.status == "Available" || c.status == "Preparing") {
			t.Errorf("%s: pay form %v, page:\n%s", c.status, canPay, body)
		}
	}
	if _, body := page("/app/s/CP-OFF/1"); !strings.Contains(body, "Station offline") || strings.Contains(body, "/pay\"") {
		t.Errorf("offline station page:\n%s", body)
	}
	for path, want := range map[string]string{
		"/app/s/NOPE/1":       "Station not found",
		"/app/s/CP1/0":        "Unknown connector",
		"/app/p/pay_x?t=nope": "Link not valid",
		"/app/nothing":        "Page not found",
	} {
		if code, body := page(path); code != 404 || !strings.Contains(body, want) || !strings.Contains(body, `class="button"`) {
			t.Errorf("%s: %d\n%s", path, code, body)
		}
	}
	// A cross-site form post (no CSRF cookie) opens nothing.
	resp, err := http.PostForm(f.srv.URL+"/app/s/CP1/1/pay", map[string][]string{"budget": {""}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("pay without CSRF: %s", resp.Status)
	}
}

// A driver's live session stream ends when the server shuts down (the
// page reconnects to the next one); it does not hold the shutdown until
// its timeout.
func TestSessionStreamEndsAtShutdown(t *testing.T) {
	f := setup(t, true)
	f.online(t, "CP1")
	code, m := do(t, "POST", f.srv.URL+"/app/api/checkouts", "application/json", `{"station_id":"CP1","connector_id":1}`)
	if code != 201 {
		t.Fatalf("checkout: %d %v", code, m)
	}
	id, tok := m["payment_id"].(string), m["access_token"].(string)
	resp, err := http.Get(f.srv.URL + "/app/p/" + id + "/events?t=" + tok)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ended := make(chan struct{})
	go func() { io.Copy(io.Discard, resp.Body); close(ended) }()
	stopped := make(chan struct{})
	go func() { f.srv.Stop(t); close(stopped) }()
	// The test server's shutdown timeout is 10 s: a stream ending only
	// when that runs out would fail here.
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the session stream did not end at shutdown")
	}
	<-stopped
}
